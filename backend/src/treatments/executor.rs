//! Executing a treatment. The default executor prints what it would do, one line per action, and
//! that line is stored as the treatment's output. Real channels (SMTP, the course platform's API)
//! are further `Executor`s chosen by configuration.

use super::rules::TreatmentKind;
use crate::channels::Failure;
use serde_json::Value;

/// What an executor needs to act on one treatment.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: TreatmentKind,
    pub attempt: i32,
    /// e-mail, name, course, access_url, boleto_url, pix_code, expires_at, ... (see `ingest::process`)
    pub payload: Value,
}

impl Job {
    pub fn email(&self) -> &str {
        self.payload.get("email").and_then(Value::as_str).unwrap_or("")
    }
    fn text(&self, key: &str) -> Option<&str> {
        self.payload.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
    }
}

pub trait Executor: Send + Sync + 'static {
    /// Performs the treatment; `Ok` carries the output to record, `Err` why not and whether a retry
    /// can help (a [`Failure::Permanent`] makes the treatment `dead` at once).
    fn execute(&self, job: &Job) -> Result<String, Failure>;
}

/// The line describing what a treatment does, in the staff's language.
pub fn describe(job: &Job) -> String {
    let email = job.email();
    match job.kind {
        TreatmentKind::GrantAccess => format!("Liberar acesso do e-mail: {email}"),
        TreatmentKind::WelcomeMessage => match job.text("access_url") {
            Some(url) => format!("Enviar mensagem de boas vindas para o email: {email} (acesso: {url})"),
            None => format!("Enviar mensagem de boas vindas para o email: {email}"),
        },
        TreatmentKind::RefusedMessage => format!("Enviar mensagem de pagamento recusado para o email: {email}"),
        TreatmentKind::RevokeAccess => format!("Tirar acesso do e-mail: {email}"),
        TreatmentKind::RefundMessage => format!("Enviar mensagem de reembolso para o email: {email}"),
        TreatmentKind::PaymentPendingMessage => {
            let how = match (job.text("boleto_url"), job.text("pix_code")) {
                (Some(url), _) => format!(" (boleto: {url})"),
                (None, Some(code)) => format!(" (pix: {code})"),
                (None, None) => String::new(),
            };
            format!("Enviar mensagem de aguardando pagamento para o email: {email}{how}")
        }
        TreatmentKind::PaymentExpiredMessage => format!("Enviar mensagem de pagamento expirado para o email: {email}"),
        TreatmentKind::ExtendAccess => match job.text("expires_at") {
            Some(until) => format!("Estender acesso do e-mail: {email} até {until}"),
            None => format!("Estender acesso do e-mail: {email} (acesso vitalício)"),
        },
        TreatmentKind::CanceledMessage => format!("Enviar mensagem de compra cancelada para o email: {email}"),
        TreatmentKind::AccessReminderMessage => match job.text("expires_at") {
            Some(until) => format!("Enviar lembrete de fim de acesso para o email: {email} (acesso até {until})"),
            None => format!("Enviar lembrete de fim de acesso para o email: {email}"),
        },
    }
}

/// Prints the line to standard output and stores it: the router without channels.
pub struct PrintExecutor;

impl Executor for PrintExecutor {
    fn execute(&self, job: &Job) -> Result<String, Failure> {
        crate::channels::Router::default().execute(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(kind: TreatmentKind, payload: Value) -> Job {
        Job { id: 1, kind, attempt: 1, payload }
    }

    #[test]
    fn the_original_four_lines() {
        let p = json!({"email": "fulano@email.com"});
        let line = |k| describe(&job(k, p.clone()));
        assert_eq!(line(TreatmentKind::GrantAccess), "Liberar acesso do e-mail: fulano@email.com");
        assert_eq!(
            line(TreatmentKind::WelcomeMessage),
            "Enviar mensagem de boas vindas para o email: fulano@email.com"
        );
        assert_eq!(
            line(TreatmentKind::RefusedMessage),
            "Enviar mensagem de pagamento recusado para o email: fulano@email.com"
        );
        assert_eq!(line(TreatmentKind::RevokeAccess), "Tirar acesso do e-mail: fulano@email.com");
    }

    #[test]
    fn every_kind_has_a_line_with_the_email() {
        for kind in TreatmentKind::ALL {
            assert!(describe(&job(kind, json!({"email": "a@b.co"}))).contains("a@b.co"), "{kind:?}");
        }
        let pix =
            describe(&job(TreatmentKind::PaymentPendingMessage, json!({"email": "a@b.co", "pix_code": "000201"})));
        assert!(pix.ends_with("(pix: 000201)"));
    }

    #[test]
    fn the_welcome_line_carries_the_course_access_url() {
        let line = describe(&job(
            TreatmentKind::WelcomeMessage,
            json!({"email": "a@b.co", "access_url": "https://membros.example.com/c"}),
        ));
        assert_eq!(line, "Enviar mensagem de boas vindas para o email: a@b.co (acesso: https://membros.example.com/c)");
        let without = describe(&job(TreatmentKind::WelcomeMessage, json!({"email": "a@b.co", "access_url": null})));
        assert_eq!(without, "Enviar mensagem de boas vindas para o email: a@b.co");
    }

    #[test]
    fn print_executor_refuses_a_job_without_email() {
        assert!(PrintExecutor.execute(&job(TreatmentKind::GrantAccess, json!({}))).is_err());
        assert_eq!(
            PrintExecutor.execute(&job(TreatmentKind::GrantAccess, json!({"email": "a@b.co"}))).unwrap(),
            "Liberar acesso do e-mail: a@b.co"
        );
    }
}

//! The e-mail channel (issue 11): the customer messages over SMTP (lettre), rendered from pt-BR
//! templates (minijinja) with a plain-text and an HTML part.
//!
//! - On when `SMTP_URL` is set (see [`crate::config::MailConfig`]); every connection has a timeout.
//! - Templates are embedded; a file of the same name in `MAIL_TEMPLATES_DIR` replaces one (see
//!   [`TEMPLATE_FILES`]). Per kind: `{kind}.subject.txt`, `{kind}.txt`, `{kind}.html`; the HTML ones extend
//!   `_layout.html`. HTML templates escape every value (autoescape by file extension).
//! - `Message-ID: <treatment-{id}@{domain of MAIL_FROM}>`: the same on every attempt of a treatment, so a
//!   re-send after a crash (at-least-once) can be recognised by the receiving side.
//! - SMTP answers: 4xx, connection failures and timeouts → retry; 5xx → `dead` at once with the answer.
//! - `revoke_access`: the "access revoked" notice goes out when nothing else tells the customer — an
//!   expired period, a staff or bulk revocation, a canceled subscription (at once or at the end of its
//!   paid period), a chargeback. A revocation that comes with a refund or purchase-canceled message
//!   (reasons `payment_refunded`, `purchase_canceled`) sends nothing more.

use super::{Channel, Failure};
use crate::config::{ConfigError, MailConfig};
use crate::treatments::executor::Job;
use crate::treatments::rules::{TreatmentKind, TreatmentReason};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use minijinja::{context, Environment, Value as Ctx};
use serde_json::{json, Value};

/// The message kinds the channel delivers, in the order the preview lists them.
pub const KINDS: [TreatmentKind; 8] = [
    TreatmentKind::WelcomeMessage,
    TreatmentKind::PaymentPendingMessage,
    TreatmentKind::RefusedMessage,
    TreatmentKind::PaymentExpiredMessage,
    TreatmentKind::RefundMessage,
    TreatmentKind::CanceledMessage,
    TreatmentKind::RevokeAccess,
    TreatmentKind::AccessReminderMessage,
];

macro_rules! templates {
    ($($kind:literal),+) => {
        &[
            ("_layout.html", include_str!("templates/_layout.html")),
            $(
                (concat!($kind, ".subject.txt"), include_str!(concat!("templates/", $kind, ".subject.txt"))),
                (concat!($kind, ".txt"), include_str!(concat!("templates/", $kind, ".txt"))),
                (concat!($kind, ".html"), include_str!(concat!("templates/", $kind, ".html"))),
            )+
        ]
    };
}

/// Every template file (name, embedded text). A file with the same name in `MAIL_TEMPLATES_DIR` wins.
pub const TEMPLATE_FILES: &[(&str, &str)] = templates!(
    "welcome_message",
    "payment_pending_message",
    "refused_message",
    "payment_expired_message",
    "refund_message",
    "canceled_message",
    "revoke_access",
    "access_reminder_message"
);

/// America/Sao_Paulo: UTC−3 all year since Brazil dropped daylight saving time (2019).
fn sao_paulo() -> FixedOffset {
    FixedOffset::west_opt(3 * 3600).expect("a valid offset")
}

/// `R$ 1.234,56` from integer cents.
pub fn format_brl(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let digits = (cents / 100).to_string();
    let mut reais = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            reais.push('.');
        }
        reais.push(c);
    }
    format!("{sign}R$ {reais},{:02}", cents % 100)
}

/// A date (`2026-12-31`) as `31/12/2026`; a moment (RFC 3339) as `31/12/2026 às 21:00` in São Paulo time.
pub fn format_date(text: &str) -> Option<String> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(day.format("%d/%m/%Y").to_string());
    }
    let at = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&sao_paulo());
    Some(at.format("%d/%m/%Y às %H:%M").to_string())
}

/// A moment as the day it falls on in São Paulo (`31/12/2026`).
pub fn format_day(at: DateTime<Utc>) -> String {
    at.with_timezone(&sao_paulo()).format("%d/%m/%Y").to_string()
}

/// The first name, capitalised (`MARIA da silva` → `Maria`); `cliente` when unknown.
pub fn first_name(name: Option<&str>) -> String {
    let Some(first) = name.and_then(|n| n.split_whitespace().next()) else { return "cliente".into() };
    let mut chars = first.chars();
    let head = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    head + &chars.as_str().to_lowercase()
}

fn payment_method_label(method: &str) -> Option<&'static str> {
    let m = method.to_ascii_lowercase();
    if m.contains("pix") {
        Some("pix")
    } else if m.contains("boleto") || m.contains("billet") {
        Some("boleto")
    } else {
        None
    }
}

/// What a treatment's payload says, ready for the templates (every value a string or absent).
pub fn template_context(payload: &Value) -> Ctx {
    let text = |key: &str| payload.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let date = |key: &str| text(key).map(|t| format_date(t).unwrap_or_else(|| t.to_string()));
    let reason = text("reason").and_then(TreatmentReason::parse);
    let access_until = text("access_until").and_then(format_date);
    context! {
        first_name => first_name(text("name")),
        name => text("name"),
        email => text("email"),
        course => text("course").unwrap_or("seu curso"),
        access_url => text("access_url"),
        amount => payload.get("amount_cents").and_then(Value::as_i64).map(format_brl),
        payment_method_label => text("payment_method").and_then(payment_method_label),
        boleto_url => text("boleto_url"),
        boleto_barcode => text("boleto_barcode"),
        pix_code => text("pix_code"),
        pix_expires_at => date("pix_expires_at"),
        refusal_reason => text("refusal_reason"),
        expires_at => date("expires_at"),
        access_until => access_until,
        subscription => matches!(reason, Some(TreatmentReason::SubscriptionCanceled | TreatmentReason::SubscriptionCanceledEndOfPeriod)),
        expired => reason == Some(TreatmentReason::Expired),
    }
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The templates, embedded or overridden from a directory, compiled once.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The embedded templates, each replaced by the file of the same name in `dir` when there is one.
    /// Every template is rendered once with sample data, so a broken override stops the start.
    pub fn load(dir: Option<&std::path::Path>) -> Result<Templates, ConfigError> {
        let mut env = Environment::new();
        // HTML files escape every value; text files and subjects do not.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        for (name, embedded) in TEMPLATE_FILES {
            let source = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError(format!("MAIL_TEMPLATES_DIR: cannot read {}: {e}", path.display())))?,
                None => embedded.to_string(),
            };
            env.add_template_owned(name.to_string(), source)
                .map_err(|e| ConfigError(format!("MAIL_TEMPLATES_DIR: template {name} does not compile: {e}")))?;
        }
        let templates = Templates { env };
        for kind in KINDS {
            templates
                .render(kind, &sample_payload(kind))
                .map_err(|e| ConfigError(format!("MAIL_TEMPLATES_DIR: template of {kind} does not render: {e}")))?;
        }
        Ok(templates)
    }

    /// Subject, text and HTML of `kind` for `payload`.
    pub fn render(&self, kind: TreatmentKind, payload: &Value) -> Result<Rendered, String> {
        let ctx = template_context(payload);
        let one = |file: String| -> Result<String, String> {
            let template = self.env.get_template(&file).map_err(|e| format!("{file}: {e}"))?;
            template.render(&ctx).map_err(|e| format!("{file}: {e:#}"))
        };
        let subject = one(format!("{kind}.subject.txt"))?;
        Ok(Rendered {
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: one(format!("{kind}.txt"))?,
            html: one(format!("{kind}.html"))?,
        })
    }
}

/// Sample data for the preview (and the start-up check of the templates).
pub fn sample_payload(kind: TreatmentKind) -> Value {
    let mut p = json!({
        "email": "maria.souza@example.com",
        "name": "Maria da Conceição Souza",
        "course": "Confeitaria Profissional",
        "course_id": 1,
        "access_url": "https://membros.example.com/confeitaria",
        "amount_cents": 123456,
        "payment_method": "credit_card",
        "expires_at": "2027-12-31",
    });
    let extra = match kind {
        TreatmentKind::PaymentPendingMessage => json!({
            "payment_method": "pix",
            "pix_code": "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Escola Exemplo6009Sao Paulo62070503***6304ABCD",
            "pix_expires_at": "2026-12-02T15:30:00Z",
            "boleto_url": null,
        }),
        TreatmentKind::PaymentExpiredMessage => json!({"payment_method": "boleto", "reason": "payment_expired"}),
        TreatmentKind::RefusedMessage => json!({"refusal_reason": "Cartão recusado pelo banco emissor"}),
        TreatmentKind::CanceledMessage => {
            json!({"reason": "subscription_canceled_end_of_period", "access_until": "2027-01-15"})
        }
        TreatmentKind::RevokeAccess => json!({"reason": "expired"}),
        _ => json!({}),
    };
    if let (Some(p), Value::Object(extra)) = (p.as_object_mut(), extra) {
        p.extend(extra);
    }
    p
}

/// Whether the revocation needs an e-mail of its own (see the module documentation).
pub fn revocation_is_announced(payload: &Value) -> bool {
    let reason = payload.get("reason").and_then(Value::as_str).and_then(TreatmentReason::parse);
    !matches!(reason, Some(TreatmentReason::PaymentRefunded | TreatmentReason::PurchaseCanceled))
}

/// The e-mail channel.
pub struct MailChannel {
    transport: SmtpTransport,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    domain: String,
    templates: Templates,
}

impl MailChannel {
    pub fn new(config: &MailConfig) -> Result<MailChannel, ConfigError> {
        let mut builder = SmtpTransport::from_url(&config.smtp_url)
            .map_err(|e| {
                ConfigError(format!(
                    "SMTP_URL is malformed ({e}): set it to smtp://HOST:PORT, smtp://HOST:587?tls=required or smtps://HOST:465, got {:?}",
                    crate::config::redact_url(&config.smtp_url)
                ))
            })?
            .timeout(Some(config.timeout));
        if let Some(user) = &config.username {
            builder = builder.credentials(Credentials::new(user.clone(), config.password.clone().unwrap_or_default()));
        }
        let from: Mailbox = config.from.parse().map_err(|e| ConfigError(format!("MAIL_FROM: {e}")))?;
        let reply_to = match &config.reply_to {
            Some(r) => Some(r.parse().map_err(|e| ConfigError(format!("MAIL_REPLY_TO: {e}")))?),
            None => None,
        };
        let domain = from.email.domain().to_string();
        Ok(MailChannel {
            transport: builder.build(),
            from,
            reply_to,
            domain,
            templates: Templates::load(config.templates_dir.as_deref())?,
        })
    }

    /// The `Message-ID` of a treatment's e-mail: the same on every attempt.
    pub fn message_id(&self, treatment_id: i64) -> String {
        message_id(treatment_id, &self.domain)
    }

    /// The e-mail of a job, ready to send.
    pub fn build(&self, job: &Job) -> Result<Message, Failure> {
        let permanent = |error: String| Failure::Permanent { error };
        let to: Mailbox =
            job.email().parse().map_err(|e| permanent(format!("invalid recipient {:?}: {e}", job.email())))?;
        let rendered = self.templates.render(job.kind, &job.payload).map_err(permanent)?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .message_id(Some(self.message_id(job.id)));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(rendered.text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(rendered.html)),
            )
            .map_err(|e| permanent(format!("cannot build the e-mail: {e}")))
    }
}

/// `<treatment-{id}@{domain}>`.
pub fn message_id(treatment_id: i64, domain: &str) -> String {
    format!("<treatment-{treatment_id}@{domain}>")
}

/// An SMTP failure as the worker should treat it.
pub fn classify(error: &lettre::transport::smtp::Error) -> Failure {
    let text = error.to_string();
    if error.is_permanent() {
        Failure::Permanent { error: format!("SMTP: {text}") }
    } else {
        Failure::Retry { error: format!("SMTP: {text}"), after: None }
    }
}

impl Channel for MailChannel {
    fn name(&self) -> &'static str {
        "email"
    }

    fn handles(&self, kind: TreatmentKind) -> bool {
        KINDS.contains(&kind)
    }

    fn deliver(&self, job: &Job) -> Result<String, Failure> {
        if job.kind == TreatmentKind::RevokeAccess && !revocation_is_announced(&job.payload) {
            return Ok("e-mail: none (the refund / cancellation message tells the customer)".into());
        }
        let message = self.build(job)?;
        match self.transport.send(&message) {
            Ok(response) => {
                Ok(format!("e-mail sent to {} ({}, SMTP {})", job.email(), self.message_id(job.id), response.code()))
            }
            Err(error) => Err(classify(&error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_brazilian_format() {
        assert_eq!(format_brl(123456), "R$ 1.234,56");
        assert_eq!(format_brl(0), "R$ 0,00");
        assert_eq!(format_brl(5), "R$ 0,05");
        assert_eq!(format_brl(99900), "R$ 999,00");
        assert_eq!(format_brl(100000), "R$ 1.000,00");
        assert_eq!(format_brl(123456789012), "R$ 1.234.567.890,12");
        assert_eq!(format_brl(-2550), "-R$ 25,50");
    }

    #[test]
    fn dates_in_brazilian_format_and_sao_paulo_time() {
        assert_eq!(format_date("2027-12-31").unwrap(), "31/12/2027");
        assert_eq!(format_date("2026-12-02T02:30:00Z").unwrap(), "01/12/2026 às 23:30");
        assert!(format_date("amanhã").is_none());
        assert_eq!(format_day("2026-12-02T02:30:00Z".parse().unwrap()), "01/12/2026");
    }

    #[test]
    fn first_names() {
        assert_eq!(first_name(Some("MARIA da Silva")), "Maria");
        assert_eq!(first_name(Some("  joão ")), "João");
        assert_eq!(first_name(Some("")), "cliente");
        assert_eq!(first_name(None), "cliente");
    }

    #[test]
    fn every_template_renders_in_portuguese_with_both_parts() {
        let templates = Templates::load(None).unwrap();
        for kind in KINDS {
            let r = templates.render(kind, &sample_payload(kind)).unwrap();
            assert!(!r.subject.is_empty() && !r.subject.contains('\n'), "{kind}: {r:?}");
            assert!(r.subject.contains("Confeitaria Profissional"), "{kind}: {}", r.subject);
            for part in [&r.text, &r.html] {
                assert!(part.contains("Olá, Maria!"), "{kind}: {part}");
                assert!(part.contains("Confeitaria Profissional"), "{kind}");
            }
            assert!(r.html.starts_with("<!DOCTYPE html>") && r.html.contains("lang=\"pt-BR\""), "{kind}");
        }
        let welcome =
            templates.render(TreatmentKind::WelcomeMessage, &sample_payload(TreatmentKind::WelcomeMessage)).unwrap();
        assert!(welcome.text.contains("https://membros.example.com/confeitaria"));
        assert!(welcome.text.contains("R$ 1.234,56") && welcome.text.contains("31/12/2027"), "{}", welcome.text);
        let pix = templates
            .render(TreatmentKind::PaymentPendingMessage, &sample_payload(TreatmentKind::PaymentPendingMessage))
            .unwrap();
        assert!(
            pix.text.contains("pix copia e cola")
                && pix.text.contains("00020126")
                && pix.text.contains("02/12/2026 às 12:30"),
            "{}",
            pix.text
        );
        assert!(pix.subject.starts_with("Seu pix"));
        let boleto = templates
            .render(
                TreatmentKind::PaymentPendingMessage,
                &json!({"name": "Ana", "course": "C", "boleto_url": "https://b.example/1", "boleto_barcode": "23790.12345"}),
            )
            .unwrap();
        assert!(boleto.text.contains("https://b.example/1") && boleto.text.contains("Linha digitável: 23790.12345"));
        assert!(boleto.subject.starts_with("Seu boleto"));
        let canceled =
            templates.render(TreatmentKind::CanceledMessage, &sample_payload(TreatmentKind::CanceledMessage)).unwrap();
        assert!(canceled.subject.contains("assinatura") && canceled.text.contains("15/01/2027"), "{canceled:?}");
        let purchase = templates
            .render(TreatmentKind::CanceledMessage, &json!({"course": "C", "reason": "purchase_canceled"}))
            .unwrap();
        assert!(purchase.subject.contains("compra"));
        let reminder = templates
            .render(TreatmentKind::AccessReminderMessage, &sample_payload(TreatmentKind::AccessReminderMessage))
            .unwrap();
        assert!(reminder.subject.contains("31/12/2027"), "{}", reminder.subject);
    }

    #[test]
    fn html_escapes_payload_values_and_text_does_not() {
        let templates = Templates::load(None).unwrap();
        let r = templates
            .render(TreatmentKind::WelcomeMessage, &json!({"name": "<script>x</script>", "course": "A & B <i>"}))
            .unwrap();
        assert!(!r.html.contains("<script>") && !r.html.contains("<i>"), "{}", r.html);
        assert!(r.html.contains("A &amp; B &lt;i&gt;"));
        assert!(r.text.contains("A & B <i>"));
    }

    #[test]
    fn a_file_in_the_templates_dir_replaces_the_embedded_one() {
        let dir = std::env::temp_dir().join(format!("portaria-mail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("welcome_message.subject.txt"), "Bem-vinda, {{ first_name }}").unwrap();
        let templates = Templates::load(Some(&dir)).unwrap();
        let r = templates.render(TreatmentKind::WelcomeMessage, &json!({"name": "ana"})).unwrap();
        assert_eq!(r.subject, "Bem-vinda, Ana");
        std::fs::write(dir.join("refund_message.txt"), "{% if %}").unwrap();
        let err = Templates::load(Some(&dir)).err().unwrap();
        assert!(err.0.contains("refund_message.txt"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn revocations_with_their_own_message_send_nothing_more() {
        assert!(revocation_is_announced(&json!({"reason": "expired"})));
        assert!(revocation_is_announced(&json!({"reason": "manual"})));
        assert!(revocation_is_announced(&json!({"reason": "subscription_canceled_end_of_period"})));
        assert!(!revocation_is_announced(&json!({"reason": "payment_refunded"})));
        assert!(revocation_is_announced(&json!({"reason": "subscription_canceled"})));
        assert!(!revocation_is_announced(&json!({"reason": "purchase_canceled"})));
    }

    #[test]
    fn message_ids_are_stable_per_treatment() {
        assert_eq!(message_id(42, "escola.com.br"), "<treatment-42@escola.com.br>");
        assert_eq!(message_id(42, "escola.com.br"), message_id(42, "escola.com.br"));
    }
}

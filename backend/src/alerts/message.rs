//! The texts of the alerts (Brazilian Portuguese, plain text with a link to the app) and the JSON that
//! Slack-, Discord- and Teams-style incoming webhooks accept. Pure functions.

use crate::ingest::event::Source;
use crate::treatments::rules::TreatmentKind;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::time::Duration;

/// Discord refuses a `content` over 2,000 characters; every text is kept under it.
const MAX_CHARS: usize = 1_900;

/// The body POSTed to `ALERT_WEBHOOK_URL`: Slack and Teams (legacy connector) read `text`, Discord
/// reads `content`; each ignores the other field.
pub fn payload(text: &str) -> Value {
    let text = clip(text, MAX_CHARS);
    json!({ "text": text, "content": text })
}

/// What a treatment kind is, in a sentence of an alert.
pub fn kind_text(kind: TreatmentKind) -> &'static str {
    match kind {
        TreatmentKind::GrantAccess => "liberar acesso",
        TreatmentKind::WelcomeMessage => "mensagem de boas-vindas",
        TreatmentKind::RefusedMessage => "aviso de pagamento recusado",
        TreatmentKind::PaymentPendingMessage => "aviso de pagamento pendente",
        TreatmentKind::PaymentExpiredMessage => "aviso de pagamento expirado",
        TreatmentKind::RevokeAccess => "revogar acesso",
        TreatmentKind::RefundMessage => "aviso de reembolso",
        TreatmentKind::ExtendAccess => "estender acesso",
        TreatmentKind::CanceledMessage => "aviso de assinatura cancelada",
        TreatmentKind::AccessReminderMessage => "aviso de acesso terminando",
    }
}

/// A treatment that failed for good.
pub struct DeadTreatment {
    pub id: i64,
    pub kind: TreatmentKind,
    pub attempts: i32,
    pub customer_id: i64,
    pub customer_email: String,
    pub last_error: Option<String>,
}

pub fn dead(t: &DeadTreatment, public_url: &str) -> String {
    let error = t.last_error.as_deref().map(|e| format!(" Último erro: {}.", clip(e.trim(), 300))).unwrap_or_default();
    format!(
        "🔴 Portaria: a tratativa #{} ({}) de {} falhou de vez após {} tentativa(s).{error} Ver cliente: {public_url}/clientes/{}",
        t.id,
        kind_text(t.kind),
        t.customer_email,
        t.attempts,
        t.customer_id
    )
}

/// Many treatments died at once (one message instead of one per treatment).
pub fn many_dead(count: i64, public_url: &str) -> String {
    format!(
        "🔴 Portaria: {count} tratativas falharam de vez desde a última verificação — um canal fora do ar? Ver: {public_url}/tratativas?status=dead"
    )
}

pub fn outbox_age(count: i64, oldest: DateTime<Utc>, age: Duration, now: DateTime<Utc>, public_url: &str) -> String {
    let waiting = span((now - oldest).to_std().unwrap_or_default());
    format!(
        "🟠 Portaria: {count} tratativa(s) na fila há mais de {} (a mais antiga espera há {waiting}) — os workers estão parados ou lentos? Ver: {public_url}/tratativas?status=pending",
        span(age)
    )
}

pub fn rejections(source: Source, count: i64, span_of: Duration, public_url: &str) -> String {
    format!(
        "🟠 Portaria: {count} webhooks da fonte {source} recusados com 401 (credencial inválida) nos últimos {} — o segredo foi trocado na plataforma? Ver: {public_url}/eventos?origem={source}&resultado=unauthorized",
        span(span_of)
    )
}

pub fn test(admin_email: &str, public_url: &str) -> String {
    format!(
        "✅ Portaria: alerta de teste enviado por {admin_email}. Se você está lendo isto, os alertas chegam aqui. Configurações: {public_url}/configuracoes"
    )
}

/// `45 s`, `10 min`, `2 h`, `1 h 30 min`.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alert_links_to_the_app() {
        let url = "https://portaria.exemplo.com";
        let t = DeadTreatment {
            id: 7,
            kind: TreatmentKind::WelcomeMessage,
            attempts: 8,
            customer_id: 42,
            customer_email: "ana@example.com".into(),
            last_error: Some("HTTP 422: e-mail inválido".into()),
        };
        let text = dead(&t, url);
        assert!(text.contains("#7") && text.contains("mensagem de boas-vindas") && text.contains("ana@example.com"));
        assert!(text.ends_with("https://portaria.exemplo.com/clientes/42"), "{text}");
        assert!(text.contains("HTTP 422"));
        assert!(many_dead(30, url).contains("/tratativas?status=dead"));
        let now = Utc::now();
        let text = outbox_age(3, now - chrono::Duration::minutes(25), Duration::from_secs(600), now, url);
        assert!(text.contains("mais de 10 min") && text.contains("25 min"), "{text}");
        let text = rejections(Source::Hotmart, 20, Duration::from_secs(300), url);
        assert!(text.contains("fonte hotmart") && text.contains("5 min") && text.contains("origem=hotmart"), "{text}");
        assert!(test("dono@example.com", url).contains("/configuracoes"));
    }

    #[test]
    fn payload_is_read_by_slack_discord_and_teams_and_stays_short() {
        let p = payload(&"x".repeat(5000));
        assert_eq!(p["text"], p["content"]);
        assert_eq!(p["text"].as_str().unwrap().chars().count(), MAX_CHARS);
        assert_eq!(payload("oi"), json!({"text": "oi", "content": "oi"}));
    }

    #[test]
    fn spans() {
        assert_eq!(span(Duration::from_secs(45)), "45 s");
        assert_eq!(span(Duration::from_secs(900)), "15 min");
        assert_eq!(span(Duration::from_secs(7200)), "2 h");
        assert_eq!(span(Duration::from_secs(5400)), "1 h 30 min");
    }
}

//! The HTTP call to `ALERT_WEBHOOK_URL`: a blocking POST with timeouts. A failure is a value (logged by
//! the caller), never a panic; the URL (a credential) never appears in it.

use serde_json::Value;
use std::io::Read;
use std::time::Duration;

/// How long one alert may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// The start of the answer's body (for the test button).
    pub body: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// POSTs `payload` as JSON to `url`. `Err` when no answer arrived (connection, TLS, timeout).
pub fn post(url: &str, payload: &Value) -> Result<Reply, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .timeout_connect(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent("Portaria-Alerts/1")
        .build()
        .into();
    let body = payload.to_string();
    let result = agent.post(url).header("Content-Type", "application/json").send(body.as_bytes());
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let mut excerpt = String::new();
            let _ = res.body_mut().as_reader().take(2048).read_to_string(&mut excerpt);
            Ok(Reply { status, body: excerpt.chars().take(300).collect() })
        }
        Err(e) => Err(redact(&e.to_string(), url)),
    }
}

/// The host of a URL, to show without its path (which often carries the webhook's token).
pub fn host(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit('@').next().unwrap_or_default().to_string()
}

fn redact(message: &str, url: &str) -> String {
    let mut out = message.replace(url, &format!("https://{}/…", host(url)));
    if let Some((_, path)) = url.split_once("://").and_then(|(_, r)| r.split_once('/')) {
        if !path.is_empty() {
            out = out.replace(path, "…");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_hides_the_path_and_credentials() {
        assert_eq!(host("https://hooks.slack.com/services/T0/B0/xyz"), "hooks.slack.com");
        assert_eq!(host("https://user:pw@example.com:8443/x?y"), "example.com:8443");
        assert_eq!(host("http://127.0.0.1:9/"), "127.0.0.1:9");
    }

    #[test]
    fn errors_never_carry_the_url() {
        let url = "https://hooks.slack.com/services/T0/B0/segredo";
        let shown = redact(&format!("connection to {url} failed; path services/T0/B0/segredo"), url);
        assert!(!shown.contains("segredo"), "{shown}");
        // nothing listens on port 9: an error value, not a panic
        let err = post("http://127.0.0.1:9/hook/segredo", &serde_json::json!({"text": "x"})).unwrap_err();
        assert!(!err.contains("segredo"), "{err}");
    }
}

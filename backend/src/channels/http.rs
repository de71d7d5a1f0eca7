//! The blocking HTTP client the outbound channels share: timeouts on every call (connect and
//! overall), no redirects, and one reading of an answer into done / retry later / give up.

use super::Failure;
use chrono::{DateTime, Utc};
use std::time::Duration;
use ureq::http;

/// Longest excerpt of a platform's answer kept on a treatment (`last_error`).
pub const EXCERPT_CHARS: usize = 500;
/// Most of an answer's body read (the rest is dropped).
const BODY_LIMIT: u64 = 256 * 1024;
/// Longest `Retry-After` honoured; a longer one is capped (the backoff takes over after it).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// A `ureq` agent with a connect and an overall timeout per call, which does not follow redirects
/// and hands every status back as an answer (4xx/5xx included).
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    pub timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("timeout", &self.timeout).finish()
    }
}

/// What a server answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Client {
    pub fn new(timeout: Duration) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(timeout.min(Duration::from_secs(5)).max(Duration::from_millis(100))))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent("Portaria")
            .build();
        Client { agent: ureq::Agent::new_with_config(config), timeout }
    }

    /// Sends one request; `Err` is a transport failure (connection refused, timeout, TLS, bad URL),
    /// already classified.
    pub fn send(&self, request: http::Request<Vec<u8>>) -> Result<Answer, Failure> {
        let response = self.agent.run(request).map_err(transport_failure)?;
        let status = response.status().as_u16();
        let retry_after =
            response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string());
        let body = response
            .into_body()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        Ok(Answer { status, retry_after, body })
    }
}

/// Transport errors: a URL that can never work is permanent; everything else (refused, reset,
/// timeout, DNS, TLS) may pass, so it is retried.
pub fn transport_failure(error: ureq::Error) -> Failure {
    match error {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
            Failure::Permanent { error: format!("invalid request: {error}") }
        }
        ureq::Error::Timeout(_) => Failure::Retry { error: format!("no answer in time ({error})"), after: None },
        other => Failure::Retry { error: format!("cannot reach the server: {other}"), after: None },
    }
}

/// An answer that is not a success, as a failure: 408, 425, 429 and 5xx are retried (429 and 503
/// after their `Retry-After`), redirects and other 4xx are permanent. `what` names the call.
pub fn classify(what: &str, answer: &Answer, now: DateTime<Utc>) -> Result<(), Failure> {
    let status = answer.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let error = format!("{what}: HTTP {status}{}", excerpt_suffix(&answer.body));
    match status {
        429 | 503 => {
            Err(Failure::Retry { error, after: answer.retry_after.as_deref().and_then(|v| retry_after(v, now)) })
        }
        408 | 425 | 500..=599 => Err(Failure::Retry { error, after: None }),
        300..=399 => {
            Err(Failure::Permanent { error: format!("{error} (redirects are not followed: set the final URL)") })
        }
        _ => Err(Failure::Permanent { error }),
    }
}

/// `Retry-After`: delay in seconds, or an HTTP date. `None` when unreadable; capped at six hours.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let delay = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at: DateTime<Utc> = httpdate::parse_http_date(value).ok()?.into();
            (at - now).to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// The first [`EXCERPT_CHARS`] characters of a body, on one line.
pub fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

fn excerpt_suffix(body: &str) -> String {
    match excerpt(body) {
        e if e.is_empty() => String::new(),
        e => format!(": {e}"),
    }
}

/// The host of a URL, for notes and logs (never the path or query, which may carry tokens).
pub fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit_once('@').map_or(authority, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry_after: Option<&str>, body: &str) -> Answer {
        Answer { status, retry_after: retry_after.map(Into::into), body: body.into() }
    }

    #[test]
    fn statuses_are_done_retry_or_permanent() {
        let now = Utc::now();
        assert_eq!(classify("x", &answer(204, None, ""), now), Ok(()));
        for status in [408, 425, 500, 502, 504] {
            assert!(matches!(classify("x", &answer(status, None, ""), now), Err(Failure::Retry { after: None, .. })));
        }
        for status in [301, 400, 401, 404, 409, 422] {
            assert!(matches!(classify("x", &answer(status, None, ""), now), Err(Failure::Permanent { .. })));
        }
        let Err(Failure::Permanent { error }) =
            classify("webhook", &answer(422, None, "{\"error\":\n \"cpf inválido\"}"), now)
        else {
            panic!()
        };
        assert_eq!(error, "webhook: HTTP 422: {\"error\": \"cpf inválido\"}");
    }

    #[test]
    fn retry_after_in_seconds_or_http_date() {
        let now = Utc::now();
        assert!(matches!(
            classify("x", &answer(429, Some("7"), ""), now),
            Err(Failure::Retry { after: Some(d), .. }) if d == Duration::from_secs(7)
        ));
        let later = httpdate::fmt_http_date((now + chrono::Duration::seconds(120)).into());
        let d = retry_after(&later, now).unwrap();
        assert!(d <= Duration::from_secs(120) && d >= Duration::from_secs(118), "{d:?}");
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("999999999", now), Some(MAX_RETRY_AFTER));
        // 500 ignores Retry-After (backoff), 503 honours it
        assert!(matches!(classify("x", &answer(500, Some("7"), ""), now), Err(Failure::Retry { after: None, .. })));
        assert!(matches!(classify("x", &answer(503, Some("7"), ""), now), Err(Failure::Retry { after: Some(_), .. })));
    }

    #[test]
    fn excerpts_are_bounded_and_hosts_hide_the_rest() {
        let long = "é".repeat(2000);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert_eq!(host("https://u:p@api.example.com:8443/v1/users?api_key=s"), "api.example.com:8443");
        assert_eq!(host("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }
}

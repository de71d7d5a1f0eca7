//! Logs: `tracing` events to stderr, text by default or one JSON object per line (`LOG_FORMAT=json`),
//! filtered by `RUST_LOG` (default `info`); `log` call sites arrive through the tracing-log bridge.
//! Per request: a request id (the caller's `X-Request-Id` when it is sane, else a new UUID), echoed
//! in the response, carried by the request's span, and one access line when the answer is sent.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use std::io::IsTerminal;
use std::time::Instant;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest `X-Request-Id` accepted from a caller; a longer one is replaced.
pub const REQUEST_ID_MAX: usize = 128;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// `LOG_FORMAT`: `text` (the default) or `json`.
    pub fn parse(value: Option<&str>) -> Result<LogFormat, String> {
        match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            None | Some("" | "text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("LOG_FORMAT={other:?} is not supported: set it to text (the default) or json")),
        }
    }
}

/// Installs the global subscriber (and the `log` bridge). Call once, first thing in `main`.
pub fn init(format: LogFormat) -> Result<(), String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match format {
        LogFormat::Text => registry
            .with(fmt::layer().with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal()))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    installed.map_err(|e| format!("cannot install the logger: {e}"))
}

/// The request's id, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The caller's id when it is short and made of `[A-Za-z0-9._:-]` only (nothing a log line could
/// be fooled by); `None` otherwise.
pub fn accepted_request_id(value: Option<&HeaderValue>) -> Option<String> {
    let value = value?.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= REQUEST_ID_MAX
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    sane.then(|| value.to_string())
}

/// Middleware (outermost): assigns the request id, writes the access line, echoes `X-Request-Id`.
/// The access line has the path without its query string (webhook tokens and signatures travel there).
pub async fn request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = accepted_request_id(req.headers().get(&REQUEST_ID)).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().as_str().chars().take(16).collect::<String>();
    let path = req.path().to_string();
    let remote = req.peer_addr().map(|a| a.ip().to_string());
    // (An error out of the inner services is turned into its answer by actix after this middleware; it
    // is logged with its status but cannot carry the header.)
    let result = next.call(req).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    // Probes and scrapes that succeed are not worth a line each.
    let quiet = (path == "/healthz" || path == "/metrics") && status.is_success();
    if !quiet {
        tracing::info!(
            target: "portaria::access",
            method = method.as_str(),
            path = path.as_str(),
            status = status.as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            request_id = id.as_str(),
            remote = remote.as_deref(),
            "request"
        );
    }
    let mut res = result?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// The span of every request (tracing-actix-web): events logged while handling it carry its request id.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        tracing::info_span!(
            "request",
            method = request.method().as_str(),
            path = request.path(),
            request_id = id.as_str()
        )
    }

    fn on_request_end<B: MessageBody>(_span: Span, _outcome: &Result<ServiceResponse<B>, actix_web::Error>) {}
}

/// The tracing-actix-web middleware with Portaria's span; wrap it inside [`request`].
pub fn tracing_logger() -> tracing_actix_web::TracingLogger<RequestSpan> {
    tracing_actix_web::TracingLogger::<RequestSpan>::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_is_text_by_default_and_refuses_unknown_values() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("JSON")), Ok(LogFormat::Json));
        assert!(LogFormat::parse(Some("xml")).unwrap_err().contains("LOG_FORMAT"));
    }

    #[test]
    fn only_sane_request_ids_are_kept() {
        let id = |s: &str| accepted_request_id(Some(&HeaderValue::from_str(s).unwrap()));
        assert_eq!(id("abc-123_x.y:z").as_deref(), Some("abc-123_x.y:z"));
        assert_eq!(id(""), None);
        assert_eq!(id("a b"), None);
        assert_eq!(id("x\" status=200"), None);
        assert_eq!(id(&"a".repeat(REQUEST_ID_MAX + 1)), None);
        assert_eq!(id(&"a".repeat(REQUEST_ID_MAX)).map(|s| s.len()), Some(REQUEST_ID_MAX));
        assert_eq!(accepted_request_id(Some(&HeaderValue::from_bytes(b"caf\xe9").unwrap())), None);
        assert_eq!(accepted_request_id(None), None);
    }
}

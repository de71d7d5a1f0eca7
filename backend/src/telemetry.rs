//! Logs: `tracing` events to stderr, text by default or one JSON object per line (`LOG_FORMAT=json`),
//! filtered by `RUST_LOG` (default `info`); `log` call sites arrive through the tracing-log bridge.
//! Per request: a request id (the caller's `X-Request-Id` when it is sane, else a new UUID), echoed
//! in the response, carried by the request's span, and one access line when the answer is sent (and,
//! for a failure on our side, one `portaria::error` line with its cause).

use crate::error::ApiError;
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

/// A `LOG_FORMAT` that is neither `text` nor `json`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("LOG_FORMAT={0:?} is not supported: set it to text (the default) or json")]
pub struct UnknownLogFormat(pub String);

/// The global logger was already installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot install the logger: {0}")]
pub struct LoggerInstalled(#[from] tracing_subscriber::util::TryInitError);

impl LogFormat {
    /// `LOG_FORMAT`: `text` (the default) or `json`.
    pub fn parse(value: Option<&str>) -> Result<LogFormat, UnknownLogFormat> {
        match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            None | Some("" | "text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(UnknownLogFormat(other.to_string())),
        }
    }
}

/// Installs the global subscriber (and the `log` bridge). Call once, first thing in `main`.
pub fn init(format: LogFormat) -> Result<(), LoggerInstalled> {
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
    Ok(installed?)
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
    let (status, error) = match &result {
        Ok(res) => (res.status(), res.response().error()),
        Err(e) => (e.as_response_error().status_code(), Some(e)),
    };
    // A failure on our side: its cause, once, with the request's id.
    if let Some(cause) = error.and_then(|e| e.as_error::<ApiError>()).and_then(|e| e.cause.as_deref()) {
        tracing::error!(
            target: "portaria::error",
            method = method.as_str(),
            path = path.as_str(),
            status = status.as_u16(),
            request_id = id.as_str(),
            cause,
            "request failed"
        );
    }
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
        assert!(LogFormat::parse(Some("xml")).unwrap_err().to_string().contains("LOG_FORMAT"));
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

    /// What a test subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn the_cause_of_an_internal_error_is_logged_once_with_the_request_never_answered() {
        use actix_web::{middleware, test, web, App, HttpResponse};
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let _logs = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(App::new().wrap(middleware::from_fn(request)).route(
            "/boom",
            web::get().to(|| async { Err::<HttpResponse, _>(ApiError::internal("disk on fire (cause-42)")) }),
        ))
        .await;
        let req = test::TestRequest::get().uri("/boom").insert_header((REQUEST_ID, "req-boom-1")).to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), 500);
        let body = test::read_body(res).await;
        assert!(!String::from_utf8_lossy(&body).contains("cause-42"), "the cause is never answered");
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(log.matches("cause-42").count(), 1, "{log}");
        let line = log.lines().find(|l| l.contains("cause-42")).unwrap();
        assert!(line.contains("ERROR") && line.contains(r#"request_id="req-boom-1""#), "{line}");
        assert!(line.contains(r#"path="/boom""#) && line.contains("status=500"), "{line}");
    }
}

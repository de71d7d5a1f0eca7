//! A deadline on every request body: a client that sends headers and then stalls mid-body would
//! otherwise hold its connection (and a worker's attention) forever. After `BODY_READ_TIMEOUT_MS` the body
//! stream fails with a timeout, which the webhook handler and the JSON extractor turn into
//! 408 `request_timeout` (the webhook one recorded).

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::HttpMessage;
use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::state::AppState;

/// Used when the app has no state (it always has one in the server).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The middleware: `App::new().wrap(actix_web::middleware::from_fn(body_deadline::bound))`.
pub async fn bound(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let timeout = req.app_data::<Data<AppState>>().map(|s| s.config.body_read_timeout).unwrap_or(DEFAULT_TIMEOUT);
    let inner = req.take_payload();
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(Deadline { inner, deadline: Box::pin(tokio::time::sleep(timeout)), expired: false });
    req.set_payload(Payload::from(stream));
    next.call(req).await
}

/// Whether a payload error is this deadline's.
pub fn is_timeout(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

struct Deadline {
    inner: Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired = true;
                let timeout =
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body did not arrive in time");
                Poll::Ready(Some(Err(PayloadError::Io(timeout))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

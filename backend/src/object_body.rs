//! `ObjectBody<T>`: the JSON body extractor of the staff API's writes.

use crate::error::{ApiError, ErrorCode};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON request body that must be an object (serde would also read a struct from an array, and a body
/// of optional fields from `[]`). Errors as `web::Json`'s: 400, 413, 415, and 422 `validation_failed`.
pub struct ObjectBody<T>(pub T);

impl<T> std::ops::Deref for ObjectBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ObjectBody<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<ObjectBody<T>, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let unexpected = |e: String| -> actix_web::Error {
                ApiError::unprocessable(
                    ErrorCode::ValidationFailed,
                    format!("The JSON body does not have the expected fields: {e}"),
                )
                .into()
            };
            match body.await?.into_inner() {
                mut object @ Value::Object(_) => {
                    integral_numbers(&mut object);
                    serde_json::from_value(object).map(ObjectBody).map_err(|e| unexpected(e.to_string()))
                }
                _ => Err(unexpected("a JSON object is expected".into())),
            }
        })
    }
}

/// `30.0` is the integer 30 in JSON (and in JSON Schema): such numbers become integers, so that an
/// integer field takes them. (No field of these bodies is fractional.)
pub(crate) fn integral_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

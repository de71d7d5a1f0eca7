//! Access tokens: HS256 JWTs signed with `JWT_SECRET`; no other algorithm is accepted.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The staff user's id.
    pub sub: String,
    pub email: String,
    /// The user's `token_version` when the token was issued; a deactivation or a password change
    /// bumps it, and every older token stops working.
    #[serde(default)]
    pub ver: i32,
    pub iat: i64,
    pub exp: i64,
}

pub fn issue(
    user_id: i64,
    email: &str,
    version: i32,
    secret: &str,
    ttl_secs: i64,
    now: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims =
        Claims { sub: user_id.to_string(), email: email.to_string(), ver: version, iat: now, exp: now + ttl_secs };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

pub fn verify(token: &str, secret: &str) -> Result<Claims, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation).map(|data| data.claims).map_err(
        |e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn round_trip() {
        let t = issue(7, "a@b.c", 0, SECRET, 60, now()).unwrap();
        let c = verify(&t, SECRET).unwrap();
        assert_eq!(c.sub, "7");
        assert_eq!(c.email, "a@b.c");
    }

    #[test]
    fn expired_wrong_secret_and_garbage() {
        let t = issue(7, "a@b.c", 0, SECRET, 60, now() - 3600).unwrap();
        assert_eq!(verify(&t, SECRET), Err(TokenError::Expired));
        let t = issue(7, "a@b.c", 0, SECRET, 60, now()).unwrap();
        assert_eq!(verify(&t, "another-secret-another-secret-xx"), Err(TokenError::Invalid));
        assert_eq!(verify("not.a.jwt", SECRET), Err(TokenError::Invalid));
    }

    #[test]
    fn other_algorithms_are_refused() {
        let claims = Claims { sub: "1".into(), email: "a@b.c".into(), ver: 0, iat: now(), exp: now() + 60 };
        let hs512 =
            encode(&Header::new(Algorithm::HS512), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap();
        assert_eq!(verify(&hs512, SECRET), Err(TokenError::Invalid));
        // "alg": "none" with an empty signature
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(serde_json::to_vec(&claims).unwrap())
        );
        assert_eq!(verify(&none, SECRET), Err(TokenError::Invalid));
    }
}

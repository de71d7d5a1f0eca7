//! Sign-up input rules, as plain functions.

use crate::error::ApiError;
use crate::error::ErrorCode;
use serde_json::json;

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 72; // bcrypt ignores bytes past 72

/// Lower-cases and trims an e-mail; `None` when it is not a plausible address.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let valid = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    valid.then_some(email)
}

/// What is wrong with a new password, if anything: 8 characters at least, 72 bytes at most.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        Some(format!("must have at least {MIN_PASSWORD_LEN} characters"))
    } else if password.len() > MAX_PASSWORD_LEN {
        Some(format!("must have at most {MAX_PASSWORD_LEN} bytes"))
    } else {
        None
    }
}

pub struct ValidSignup {
    pub email: String,
    pub name: String,
}

/// Checks e-mail, name and password; a 422 lists every field at fault.
pub fn validate_signup(email: &str, name: &str, password: &str) -> Result<ValidSignup, ApiError> {
    let mut fields = serde_json::Map::new();
    let normalized = normalize_email(email);
    if normalized.is_none() {
        fields.insert("email".into(), json!("must be a valid e-mail address"));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        fields.insert("name".into(), json!("must have 1 to 200 characters, none of them a control character"));
    }
    if let Some(problem) = password_problem(password) {
        fields.insert("password".into(), json!(problem));
    }
    match normalized {
        Some(email) if fields.is_empty() => Ok(ValidSignup { email, name: name.to_string() }),
        _ => Err(ApiError::unprocessable(ErrorCode::ValidationFailed, "Some fields are invalid.")
            .with_details(json!({ "fields": fields }))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(normalize_email("  Fulano@Email.COM ").as_deref(), Some("fulano@email.com"));
        for bad in ["", "no-at", "@x.com", "a@b", "a@.com", "a b@c.com", "a@b.com.", "a@@b.com"] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn signup_rules() {
        assert!(validate_signup("a@b.co", "Ana", "12345678").is_ok());
        let e = validate_signup("a@b.co", "Ana", "1234567").err().unwrap();
        assert_eq!(e.status.as_u16(), 422);
        assert!(e.details.unwrap()["fields"]["password"].is_string());
        let e = validate_signup("nope", " ", "12345678").err().unwrap();
        let fields = &e.details.unwrap()["fields"];
        assert!(fields["email"].is_string() && fields["name"].is_string());
        let e = validate_signup("a\0@b.co", "A\0na", "12345678").err().unwrap();
        let fields = &e.details.unwrap()["fields"];
        assert!(fields["email"].is_string() && fields["name"].is_string(), "NUL characters are refused");
        // 8 characters, counted as characters, not bytes
        assert!(validate_signup("a@b.co", "Ana", "çççççççç").is_ok());
    }

    #[test]
    fn new_passwords_follow_the_signup_rule() {
        assert_eq!(password_problem("12345678"), None);
        assert_eq!(password_problem("çççççççç"), None);
        assert!(password_problem("1234567").unwrap().contains("at least 8"));
        assert!(password_problem(&"x".repeat(73)).unwrap().contains("at most 72"));
    }
}

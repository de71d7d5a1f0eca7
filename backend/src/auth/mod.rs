//! Staff authentication: invite-only sign-up, bcrypt passwords, HS256 JWTs, login throttling.

pub mod extractor;
pub mod handlers;
pub mod jwt;
pub mod password;
pub mod role;
pub mod throttle;
pub mod users;
pub mod validation;

pub use extractor::{AdminUser, AuthUser};
pub use role::Role;

/// Constant-time equality for tokens and signatures (length differences leak only the length).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_time_eq_is_exact_and_case_sensitive() {
        assert!(super::constant_time_eq(b"uhdfaAADF123", b"uhdfaAADF123"));
        assert!(!super::constant_time_eq(b"uhdfaAADF123", b"UHDFAAADF123"));
        assert!(!super::constant_time_eq(b"uhdfaAADF123", b"uhdfaAADF12"));
        assert!(!super::constant_time_eq(b"", b"x"));
    }
}

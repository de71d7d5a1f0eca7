//! Password hashing (bcrypt). CPU-heavy: call from blocking threads only.

pub fn hash(password: &str, cost: u32) -> Result<String, bcrypt::BcryptError> {
    bcrypt::hash(password, cost)
}

/// Verifies `password` against `hash`. `None` (unknown account) burns the time of one hash at
/// `cost` and fails, so a login for a missing account takes as long as one for an existing account.
pub fn verify(password: &str, hash: Option<&str>, cost: u32) -> bool {
    match hash {
        Some(h) => bcrypt::verify(password, h).unwrap_or(false),
        None => {
            let _ = bcrypt::hash(password, cost);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash("correct horse", 4).unwrap();
        assert!(h.starts_with("$2"));
        assert!(verify("correct horse", Some(&h), 4));
        assert!(!verify("wrong horse", Some(&h), 4));
        assert!(!verify("correct horse", None, 4));
    }
}

//! argon2id password hashes (PHC strings) and the rules for acceptable passwords and emails.
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Password is too short: use at least {min} characters.")]
    TooShort { min: usize },
    #[error("Password is too long: use at most {max} characters.")]
    TooLong { max: usize },
    #[error("This password is too common; choose one that is harder to guess.")]
    TooCommon,
    #[error("The password must not contain your email address.")]
    ContainsEmail,
    #[error("Enter a valid email address.")]
    InvalidEmail,
    #[error("This email address is reserved for the system; use your own.")]
    ReservedEmail,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 256;

/// The lowest zxcvbn score a new password may have (3: "safely unguessable: moderate
/// protection from offline slow-hash scenario", about 10^10 guesses).
pub const MIN_SCORE: u8 = 3;

/// Checks a new password: its length, its strength by zxcvbn (a port of Dropbox's estimator:
/// 30,000 leaked passwords, names, English words, keyboard patterns, dates, l33t speak),
/// counting the e-mail address (and `more`, e.g. the display name) as known to an attacker.
pub fn validate_password(password: &str, email: &str) -> Result<(), PasswordError> {
    validate_password_with(password, email, &[])
}

/// [`validate_password`] with more words an attacker would try (the person's name).
pub fn validate_password_with(password: &str, email: &str, more: &[&str]) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(PasswordError::TooShort { min: MIN_LEN });
    }
    if len > MAX_LEN {
        return Err(PasswordError::TooLong { max: MAX_LEN });
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Err(PasswordError::ContainsEmail);
    }
    let mut inputs: Vec<&str> = vec![email, &local];
    inputs.extend(more.iter().flat_map(|m| m.split_whitespace()));
    inputs.extend(email.split(['@', '.', '-', '_', '+']).filter(|p| p.len() >= 3));
    if u8::from(zxcvbn::zxcvbn(password, &inputs).score()) < MIN_SCORE {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

/// A random temporary password (100 bits, `xxxxx-xxxxx-xxxxx-xxxxx`), for an admin's reset.
pub fn temporary_password() -> String {
    let s = crate::totp::new_secret().to_ascii_lowercase();
    format!("{}-{}-{}-{}", &s[0..5], &s[5..10], &s[10..15], &s[15..20])
}

/// Domains the system's own accounts live in (the library owner, the demo accounts): nobody
/// may sign up, or be created by an admin, with an address there. Any `.internal` domain
/// (reserved for private use) counts too.
pub const RESERVED_DOMAINS: &[&str] = &["precedent.internal", "demo.precedent"];

/// True when `email` (already lower-cased) is in a reserved domain.
pub fn is_reserved_email(email: &str) -> bool {
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
    RESERVED_DOMAINS.contains(&domain) || domain.ends_with(".internal")
}

/// Normalises and checks the email address of a new account (trimmed, lower-cased, not in a
/// reserved domain).
pub fn validate_email(email: &str) -> Result<String, PasswordError> {
    let e = email.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && match e.split_once('@') {
            Some((local, domain)) => !local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'),
            None => false,
        };
    if !ok {
        Err(PasswordError::InvalidEmail)
    } else if is_reserved_email(&e) {
        Err(PasswordError::ReservedEmail)
    } else {
        Ok(e)
    }
}

/// Hashes with argon2id (the crate's default parameters: 19 MiB, 2 passes) and a random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let hash: PasswordHash = Argon2::default().hash_password(password.as_bytes()).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// True when `password` matches the PHC string `hash`; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the account does not exist, so that timing does not reveal
/// which emails have accounts.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password-0x5f3759df").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn password_rules() {
        assert_eq!(validate_password("short", "a@b.co"), Err(PasswordError::TooShort { min: MIN_LEN }));
        assert_eq!(validate_password("Password123", "a@b.co"), Err(PasswordError::TooCommon));
        assert_eq!(validate_password("zzzzzzzzzzzz", "a@b.co"), Err(PasswordError::TooCommon));
        // What a 150-word list missed: keyboard walks, l33t, names with years, the person's own name.
        for weak in ["qwertyuiop123", "P@ssw0rd2024!", "Jennifer1985", "iloveyou2026"] {
            assert_eq!(validate_password(weak, "a@b.co"), Err(PasswordError::TooCommon), "{weak}");
        }
        // A rare surname is strong until it is the person's own.
        assert!(validate_password("Przybylski2026!", "ap@x.org").is_ok());
        assert_eq!(validate_password_with("Przybylski2026!", "ap@x.org", &["Anna Przybylski"]), Err(PasswordError::TooCommon));
        assert_eq!(validate_password("alice.smith-2026!", "alice.smith@x.org"), Err(PasswordError::ContainsEmail));
        assert!(validate_password("river-cobalt-lantern", "alice@x.org").is_ok());
        assert!(validate_password(&"x1".repeat(200), "a@b.co").is_err());
    }

    #[test]
    fn email_rules() {
        assert_eq!(validate_email("  Alice@Example.ORG ").unwrap(), "alice@example.org");
        for bad in ["", "alice", "a@b", "a b@c.de", "@c.de", "a@.de", "a@b@c.de"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn system_addresses_are_reserved() {
        for reserved in ["library@precedent.internal", "Patient@Demo.Precedent", "x@anything.internal"] {
            assert_eq!(validate_email(reserved), Err(PasswordError::ReservedEmail), "{reserved}");
        }
        assert!(validate_email("someone@precedent.org").is_ok());
        assert!(validate_email("internal@example.org").is_ok());
    }
}

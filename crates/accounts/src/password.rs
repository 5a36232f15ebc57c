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

/// The most common leaked passwords (and variants long enough to pass the length rule).
const COMMON: &[&str] = &[
    "123456",
    "password",
    "12345678",
    "qwerty",
    "123456789",
    "12345",
    "1234",
    "111111",
    "1234567",
    "dragon",
    "123123",
    "baseball",
    "abc123",
    "football",
    "monkey",
    "letmein",
    "696969",
    "shadow",
    "master",
    "666666",
    "qwertyuiop",
    "123321",
    "mustang",
    "1234567890",
    "michael",
    "654321",
    "superman",
    "1qaz2wsx",
    "7777777",
    "121212",
    "000000",
    "qazwsx",
    "123qwe",
    "killer",
    "trustno1",
    "jordan",
    "jennifer",
    "zxcvbnm",
    "asdfgh",
    "hunter",
    "buster",
    "soccer",
    "harley",
    "batman",
    "andrew",
    "tigger",
    "sunshine",
    "iloveyou",
    "2000",
    "charlie",
    "robert",
    "thomas",
    "hockey",
    "ranger",
    "daniel",
    "starwars",
    "klaster",
    "112233",
    "george",
    "computer",
    "michelle",
    "jessica",
    "pepper",
    "1111",
    "zxcvbn",
    "555555",
    "11111111",
    "131313",
    "freedom",
    "777777",
    "pass",
    "maggie",
    "159753",
    "aaaaaa",
    "ginger",
    "princess",
    "joshua",
    "cheese",
    "amanda",
    "summer",
    "love",
    "ashley",
    "nicole",
    "chelsea",
    "biteme",
    "matthew",
    "access",
    "yankees",
    "987654321",
    "dallas",
    "austin",
    "thunder",
    "taylor",
    "matrix",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "qwerty123",
    "qwerty1234",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "qwertyuiop1",
    "iloveyou1",
    "123456789a",
    "1234567890a",
    "0123456789",
    "abcdefghij",
    "abcd1234",
    "welcome",
    "welcome1",
    "welcome123",
    "admin",
    "admin123",
    "administrator",
    "changeme",
    "changeme123",
    "letmein123",
    "sunshine1",
    "football1",
    "baseball1",
    "princess1",
    "monkey123",
    "dragon123",
    "trustno1trustno1",
    "qwertyqwerty",
    "aaaaaaaaaa",
    "1111111111",
    "0000000000",
    "9876543210",
    "asdfghjkl",
    "asdfghjkl1",
    "zaq12wsx",
    "zaq1zaq1",
    "passwordpassword",
    "hospital",
    "hospital1",
    "hospital123",
    "doctor123",
    "patient123",
    "precedent",
    "precedent1",
    "precedent123",
    "medicine123",
];

/// Checks a new password against the length rule, the common-password list and the email.
pub fn validate_password(password: &str, email: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(PasswordError::TooShort { min: MIN_LEN });
    }
    if len > MAX_LEN {
        return Err(PasswordError::TooLong { max: MAX_LEN });
    }
    let lower = password.to_lowercase();
    if COMMON.contains(&lower.as_str()) || lower.chars().all(|c| c == lower.chars().next().unwrap_or(c)) {
        return Err(PasswordError::TooCommon);
    }
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Err(PasswordError::ContainsEmail);
    }
    Ok(())
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

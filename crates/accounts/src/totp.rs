//! Two-factor sign-in with an authenticator app (RFC 6238 TOTP: SHA-1, 6 digits, 30 s steps,
//! one step of clock skew either way, through the maintained `totp-rs`), its enrolment QR code
//! (an `otpauth://` URL drawn as SVG by `qrcode`), and one-time recovery codes (only their
//! SHA-256 is stored).
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "Precedent";
/// The length of one time step in seconds.
pub const STEP_SECS: u64 = 30;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("the stored two-factor secret is unusable")]
    BadSecret,
    #[error("could not draw the QR code: {0}")]
    Qr(String),
}

/// What a user needs to add the account to an authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The secret in base32, for typing in by hand.
    pub secret_base32: String,
    /// The `otpauth://totp/…` URL the QR code holds.
    pub url: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

/// A new random secret (160 bits, as RFC 4226 recommends), in base32.
pub fn new_secret() -> String {
    match Secret::generate_secret().to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded gives an encoded secret"),
    }
}

fn totp(secret_base32: &str, account: &str) -> Result<TOTP, TotpError> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().map_err(|_| TotpError::BadSecret)?;
    // `:` may appear in neither the issuer nor the account name of an otpauth URL.
    // Skew 0 here: `verify` tries the neighbouring steps itself, to know which one matched.
    TOTP::new(Algorithm::SHA1, 6, 0, STEP_SECS, bytes, Some(ISSUER.to_string()), account.replace(':', " ")).map_err(|_| TotpError::BadSecret)
}

/// The QR code and URL for enrolling `secret_base32` under `account` (the e-mail address).
pub fn enrolment(secret_base32: &str, account: &str) -> Result<Enrolment, TotpError> {
    let t = totp(secret_base32, account)?;
    let url = t.get_url();
    let qr = qrcode::QrCode::new(url.as_bytes()).map_err(|e| TotpError::Qr(e.to_string()))?;
    let qr_svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
    Ok(Enrolment { secret_base32: t.get_secret_base32(), url, qr_svg })
}

/// The time step a six-digit `code` is good for at `now` (unix seconds), within one step of
/// skew; `None` when it is wrong. The caller records the step so a code is used once.
pub fn verify(secret_base32: &str, code: &str, now: u64) -> Result<Option<i64>, TotpError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret_base32, "")?;
    let step = now / STEP_SECS;
    for s in [step.saturating_sub(1), step, step + 1] {
        if t.check(&code, s * STEP_SECS) {
            return Ok(Some(s as i64));
        }
    }
    Ok(None)
}

/// The code an authenticator shows at `now` (tests and the CLI's self-check).
pub fn code_at(secret_base32: &str, now: u64) -> Result<String, TotpError> {
    Ok(totp(secret_base32, "")?.generate(now))
}

/// Fresh recovery codes (`xxxx-xxxx-xxxx`, 60 random bits each, base32 lower-case).
pub fn recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let s = new_secret().to_ascii_lowercase();
            format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..12])
        })
        .collect()
}

/// The stored form of a recovery code: SHA-256 (hex) of the code as typed, ignoring case,
/// spaces and dashes.
pub fn recovery_digest(code: &str) -> String {
    let norm: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    format!("{:x}", Sha256::digest(norm.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vector_and_skew() {
        // RFC 6238 appendix B, SHA-1: secret "12345678901234567890", T = 59 → 94287082 (8
        // digits); its last six digits are the 6-digit code.
        let secret = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(verify(&secret, "287082", 59).unwrap(), Some(1));
        assert_eq!(verify(&secret, "287 082", 59 + 30).unwrap(), Some(1), "one step late is accepted");
        assert_eq!(verify(&secret, "287082", 59 + 90).unwrap(), None, "three steps late is not");
        assert_eq!(verify(&secret, "28708", 59).unwrap(), None);
        assert_eq!(verify(&secret, "abcdef", 59).unwrap(), None);
        assert!(verify("not base32!", "287082", 59).is_err());
    }

    #[test]
    fn enrolment_and_recovery_codes() {
        let s = new_secret();
        assert_eq!(s.len(), 32, "160 bits in base32");
        let e = enrolment(&s, "dr.who@example.org").unwrap();
        assert!(e.url.starts_with("otpauth://totp/Precedent:") && e.url.contains(&format!("secret={s}")), "{}", e.url);
        assert!(e.qr_svg.contains("<svg") && e.qr_svg.contains("</svg>"));
        let codes = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), RECOVERY_CODES);
        assert_eq!(recovery_digest(&codes[0]), recovery_digest(&codes[0].to_uppercase().replace('-', " ")));
        assert_ne!(recovery_digest(&codes[0]), recovery_digest(&codes[1]));
    }
}

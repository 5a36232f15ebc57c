//! Signed, expiring links to the thumbnail of a de-identified hit: only the viewer they were
//! made for can use one, for an hour (HMAC-SHA256 with the process's key).
use hmac::Mac;

/// How long a signed thumbnail link of a de-identified hit works.
pub const SIGNED_THUMB_SECS: i64 = 3600;

fn thumb_mac(key: &[u8; 32], image: i64, viewer: i64, expires: i64) -> hmac::Hmac<sha2::Sha256> {
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("thumb:{image}:{viewer}:{expires}").as_bytes());
    mac
}

/// A link to image `image`'s thumbnail that only `viewer` can use until `expires` (unix s).
pub fn signed_thumb_url(key: &[u8; 32], image: i64, viewer: i64, expires: i64) -> String {
    let sig = hex::encode(thumb_mac(key, image, viewer, expires).finalize().into_bytes());
    format!("/media/hits/{image}/thumb?exp={expires}&sig={sig}")
}

/// Whether `sig` is the signature of that link for `viewer` and it has not expired.
pub fn verify_thumb(key: &[u8; 32], image: i64, viewer: i64, expires: i64, sig: &str, now: i64) -> bool {
    if expires < now {
        return false;
    }
    let Ok(bytes) = hex::decode(sig) else { return false };
    thumb_mac(key, image, viewer, expires).verify_slice(&bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_bind_image_viewer_and_time() {
        let key = [7u8; 32];
        let url = signed_thumb_url(&key, 5, 9, 1000);
        let sig = url.split("sig=").nth(1).unwrap();
        assert!(verify_thumb(&key, 5, 9, 1000, sig, 999));
        assert!(!verify_thumb(&key, 5, 9, 1000, sig, 1001), "expired");
        assert!(!verify_thumb(&key, 6, 9, 1000, sig, 0), "other image");
        assert!(!verify_thumb(&key, 5, 10, 1000, sig, 0), "other viewer");
        assert!(!verify_thumb(&key, 5, 9, 2000, sig, 0), "other expiry");
        assert!(!verify_thumb(&[8u8; 32], 5, 9, 1000, sig, 0), "other key");
        assert!(!verify_thumb(&key, 5, 9, 1000, "zz", 0));
    }
}

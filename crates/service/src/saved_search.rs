//! The advanced search's query kept under an opaque id: the search form posts here and the
//! page's URL carries only `?s=<id>`, so symptoms and lab values a user typed never reach
//! browser history, proxy logs or a Referer header. Only the user who saved a query may open it.
use crate::{Caller, ServiceError};

/// The form fields a saved query may hold (everything else is dropped).
pub const FIELDS: &[&str] = &["case", "text", "labs", "img", "k", "tw", "iw", "lw", "sort", "modality", "region", "from", "to", "dx", "validated"];
/// At most this many fields and this many characters in all.
const MAX_FIELDS: usize = 64;
const MAX_CHARS: usize = 64 * 1024;

/// Keeps the search form's `pairs` for the caller; returns the opaque id for the page's URL.
pub async fn save(c: &Caller, pairs: Vec<(String, String)>) -> Result<String, ServiceError> {
    let kept: Vec<(String, String)> = pairs.into_iter().filter(|(k, v)| FIELDS.contains(&k.as_str()) && !v.trim().is_empty()).collect();
    if kept.len() > MAX_FIELDS || kept.iter().map(|(k, v)| k.len() + v.chars().count()).sum::<usize>() > MAX_CHARS {
        return Err(ServiceError::Invalid("This search is too long; shorten the text or the lab values.".into()));
    }
    Ok(precedent_store::saved_searches::save(&c.state.pool, c.actor.id, &kept).await?.simple().to_string())
}

/// The fields of the caller's saved query `id`; another user's (or an expired or malformed id)
/// is "not found".
pub async fn get(c: &Caller, id: &str) -> Result<Vec<(String, String)>, ServiceError> {
    let id = uuid::Uuid::try_parse(id.trim()).map_err(|_| ServiceError::NotFound)?;
    precedent_store::saved_searches::get(&c.state.pool, id, c.actor.id).await?.ok_or(ServiceError::NotFound)
}

//! One way to read a multipart upload, for every upload endpoint: fields in order, each read
//! with a byte limit (in memory, or streamed to a file), with the same clear messages when a
//! field is too large, not text, or the upload was cut off.
use crate::http::ApiError;
use axum::extract::multipart::{Field, Multipart};
use precedent_service::ServiceError;
use std::path::Path;

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError(ServiceError::Invalid(format!("The upload was interrupted or malformed: {e}")))
}

fn too_large(what: &str, limit: u64) -> ApiError {
    ApiError(ServiceError::Invalid(format!("“{what}” is too large (the limit is {} MB).", limit / (1024 * 1024))))
}

/// The next field of the form, or `None` at its end.
pub async fn next_field(mp: &mut Multipart) -> Result<Option<Field<'_>>, ApiError> {
    mp.next_field().await.map_err(|e| malformed(e.body_text()))
}

/// A field's name ("" when it has none).
pub fn name_of(field: &Field<'_>) -> String {
    field.name().unwrap_or("").to_string()
}

/// A field's file name, without control characters, at most 200 characters; `default` when
/// the browser sent none.
pub fn file_name_of(field: &Field<'_>, default: &str) -> String {
    let name: String = field.file_name().unwrap_or("").chars().filter(|c| !c.is_control()).take(200).collect();
    if name.is_empty() {
        default.to_string()
    } else {
        name
    }
}

/// Reads a field into memory, refusing it once it passes `limit` bytes (`what` names it in the
/// message).
pub async fn read_bytes(field: &mut Field<'_>, limit: usize, what: &str) -> Result<Vec<u8>, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| malformed(e.body_text()))? {
        if buf.len() + chunk.len() > limit {
            return Err(too_large(what, limit as u64));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Reads a text field (UTF-8) of at most `limit` bytes.
pub async fn read_text(field: &mut Field<'_>, limit: usize, what: &str) -> Result<String, ApiError> {
    String::from_utf8(read_bytes(field, limit, what).await?).map_err(|_| ApiError(ServiceError::Invalid(format!("The {what} field is not valid UTF-8 text."))))
}

/// Streams a field into a new file at `path`, refusing it once it passes `limit` bytes; the
/// file is removed when the field is refused or cut off (`what`: "archive"). Returns the bytes written.
pub async fn save_to_file(field: &mut Field<'_>, path: &Path, limit: u64, what: &str) -> Result<u64, ApiError> {
    let mut file = tokio::fs::File::create(path).await.map_err(|e| crate::http::internal("upload file", e))?;
    let outcome = async {
        let mut written = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(|e| malformed(e.body_text()))? {
            written += chunk.len() as u64;
            if written > limit {
                return Err(ApiError(ServiceError::Invalid(format!("The {what} is too large (the limit is {} MB).", limit / (1024 * 1024)))));
            }
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk).await.map_err(|e| crate::http::internal("upload file", e))?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(|e| crate::http::internal("upload file", e))?;
        Ok(written)
    }
    .await;
    if outcome.is_err() {
        drop(file);
        let _ = tokio::fs::remove_file(path).await;
    }
    outcome
}

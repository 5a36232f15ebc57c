//! A case's images (`case_images`): the rows written with a new case, and reading them back —
//! all of a case's, in position order, or one by id (with its case's owner, for access checks).
use crate::Result;
use precedent_types::{CaseId, ImageId, Modality, UserId};
use sqlx::PgPool;

/// An image to store with a new case; its bytes and thumbnail are already in the blob store.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub filename: String,
    pub mime: String,
    pub sha256: String,
    pub byte_size: i64,
    pub width: i32,
    pub height: i32,
    pub modality: Modality,
    pub plane: Option<String>,
    pub caption: Option<String>,
    pub thumb_sha256: String,
}

/// A stored image.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Image {
    pub id: ImageId,
    pub case_id: CaseId,
    /// The owner of its case.
    pub owner: UserId,
    pub position: i32,
    pub filename: String,
    pub mime: String,
    pub sha256: String,
    pub byte_size: i64,
    pub width: i32,
    pub height: i32,
    pub modality: Modality,
    pub plane: Option<String>,
    pub caption: Option<String>,
    pub thumb_sha256: String,
}

/// The columns of [`Image`], over `case_images i JOIN cases c`.
const COLUMNS: &str =
    "i.id, i.case_id, c.owner_id AS owner, i.position, i.filename, i.mime, i.sha256, i.byte_size, i.width, i.height, i.modality, i.plane, i.caption, i.thumb_sha256";

/// Stores `images` for the new case `case`, in order (inside the caller's transaction).
pub(super) async fn insert(conn: &mut sqlx::PgConnection, case: CaseId, images: &[NewImage]) -> Result<()> {
    for (pos, img) in images.iter().enumerate() {
        sqlx::query(
            "INSERT INTO case_images (case_id, position, filename, mime, sha256, byte_size, width, height, modality, plane, caption, thumb_sha256)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(case)
        .bind(pos as i32)
        .bind(&img.filename)
        .bind(&img.mime)
        .bind(&img.sha256)
        .bind(img.byte_size)
        .bind(img.width)
        .bind(img.height)
        .bind(img.modality)
        .bind(&img.plane)
        .bind(&img.caption)
        .bind(&img.thumb_sha256)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The images of `case`, by position.
pub(super) async fn of_case(pool: &PgPool, case: CaseId) -> Result<Vec<Image>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM case_images i JOIN cases c ON c.id = i.case_id WHERE i.case_id = $1 ORDER BY i.position"))
        .bind(case)
        .fetch_all(pool)
        .await?)
}

/// One image; `None` if it does not exist.
pub async fn get_image(pool: &PgPool, id: ImageId) -> Result<Option<Image>> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM case_images i JOIN cases c ON c.id = i.case_id WHERE i.id = $1")).bind(id).fetch_optional(pool).await?)
}

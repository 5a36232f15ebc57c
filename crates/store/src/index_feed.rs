//! The index feed: what the similarity indexes read from Postgres. Each case's vectors, filter
//! fields and latest lab values ([`index_rows`]), the change log that keeps a live index in step
//! with the database ([`changes_after`]), which model each channel's index uses and the
//! embedding jobs a model change needs ([`active_model`], [`enqueue_missing`]), what a results
//! list shows of each hit ([`hit_cases`]), and doctors' relevance judgements of hits
//! ([`judge`], [`judged_pairs`]). Cases are named by the index's `i64` keys here.
use crate::Result;
use precedent_types::{Channel, ImageId, LabFlag, ReviewAction, UserId};
use sqlx::PgPool;

/// A case as the indexes see it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    pub case_id: i64,
    pub owner_id: i64,
    /// A library case patients may meet as a similar case.
    pub shareable: bool,
    /// A doctor has validated or corrected the diagnosis.
    pub validated: bool,
    /// Distinct imaging modalities of its images (`xray`, `ct`, `mr`, `other`).
    pub modalities: Vec<String>,
    pub body_region: Option<String>,
    /// Creation date, days since 1970-01-01 (UTC).
    pub created_day: i32,
    /// The case's full-text vector for the text model.
    pub text: Option<Vec<f32>>,
    /// (image id, vector) for the image model, by image id.
    pub images: Vec<(i64, Vec<f32>)>,
    /// The latest value of each catalog analyte across the case's reports (corrections applied).
    pub labs: Vec<LabRow>,
}

/// One analyte's latest value, in canonical units.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LabRow {
    pub case_id: i64,
    pub analyte_id: String,
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub flag: Option<LabFlag>,
    pub text_value: Option<String>,
}

/// Latest values per analyte of `ids`, ordered by case.
pub async fn lab_rows(pool: &PgPool, ids: &[i64]) -> Result<Vec<LabRow>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT ON (v.case_id, v.analyte_id)
                v.case_id, v.analyte_id,
                CASE WHEN k.id IS NULL THEN v.canonical_value ELSE k.canonical_value END AS value,
                v.canonical_low AS low, v.canonical_high AS high,
                CASE WHEN k.id IS NULL THEN v.flag ELSE k.flag END AS flag,
                CASE WHEN k.id IS NULL THEN v.text_value ELSE k.text_value END AS text_value
         FROM lab_values v
         JOIN lab_reports r ON r.id = v.report_id
         LEFT JOIN LATERAL (SELECT * FROM lab_value_corrections c WHERE c.value_id = v.id ORDER BY c.created_at DESC, c.id DESC LIMIT 1) k ON TRUE
         WHERE v.case_id = ANY($1) AND v.analyte_id IS NOT NULL
         ORDER BY v.case_id, v.analyte_id, r.collected_on DESC NULLS LAST, r.id DESC",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?)
}

/// Which cases to read.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// These cases (those that no longer exist are simply absent from the result).
    Ids(&'a [i64]),
    /// The next `limit` cases after `after`, by id (for building in batches).
    After { after: i64, limit: i64 },
}

type Row = (i64, i64, bool, bool, Option<String>, i32, Vec<String>, Option<Vec<f32>>);

/// Reads the index rows of the selected cases, by case id.
pub async fn index_rows(pool: &PgPool, sel: Selection<'_>, text_model: &str, image_model: Option<&str>) -> Result<Vec<IndexRow>> {
    const COLUMNS: &str = "c.id, c.owner_id, c.shareable,
        EXISTS (SELECT 1 FROM validations v WHERE v.case_id = c.id) AS validated,
        c.body_region,
        ((c.created_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01') AS created_day,
        COALESCE((SELECT array_agg(DISTINCT i.modality ORDER BY i.modality) FROM case_images i WHERE i.case_id = c.id), '{}') AS modalities,
        (SELECT t.vector FROM text_vectors t WHERE t.case_id = c.id AND t.field = 'full' AND t.model = $1) AS text";
    let rows: Vec<Row> = match sel {
        Selection::Ids(ids) => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM cases c WHERE c.id = ANY($2) ORDER BY c.id")).bind(text_model).bind(ids).fetch_all(pool).await?
        }
        Selection::After { after, limit } => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM cases c WHERE c.id > $2 ORDER BY c.id LIMIT $3"))
                .bind(text_model)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut images: Vec<(i64, i64, Vec<f32>)> = match image_model {
        Some(model) => {
            sqlx::query_as("SELECT case_id, image_id, vector FROM image_vectors WHERE case_id = ANY($1) AND model = $2 ORDER BY case_id, image_id")
                .bind(&ids)
                .bind(model)
                .fetch_all(pool)
                .await?
        }
        None => Vec::new(),
    };
    images.reverse();
    let mut labs = lab_rows(pool, &ids).await?;
    labs.reverse();
    let mut out = Vec::with_capacity(rows.len());
    for (case_id, owner_id, shareable, validated, body_region, created_day, modalities, text) in rows {
        let mut imgs = Vec::new();
        while images.last().is_some_and(|i| i.0 == case_id) {
            if let Some((_, id, v)) = images.pop() {
                imgs.push((id, v));
            }
        }
        let mut lab = Vec::new();
        while labs.last().is_some_and(|l| l.case_id == case_id) {
            if let Some(l) = labs.pop() {
                lab.push(l);
            }
        }
        out.push(IndexRow { case_id, owner_id, shareable, validated, modalities, body_region, created_day, text, images: imgs, labs: lab });
    }
    Ok(out)
}

/// Number of cases (the denominator of build progress).
pub async fn case_count(pool: &PgPool) -> Result<i64> {
    crate::cases::count(pool).await
}

/// Cases, full-text vectors of `text_model` and image vectors of `image_model` in the database:
/// what a consistent index holds.
pub async fn counts(pool: &PgPool, text_model: &str, image_model: Option<&str>) -> Result<(i64, i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM cases),
                (SELECT count(*) FROM text_vectors WHERE field = 'full' AND model = $1),
                (SELECT count(*) FROM image_vectors WHERE model = $2)",
    )
    .bind(text_model)
    .bind(image_model.unwrap_or(""))
    .fetch_one(pool)
    .await?)
}

/// The newest change id (0 when none).
pub async fn last_change(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COALESCE(max(id), 0) FROM search_changes").fetch_one(pool).await?)
}

/// Up to `limit` changes after `after`: (change id, case id), oldest first.
pub async fn changes_after(pool: &PgPool, after: i64, limit: i64) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as("SELECT id, case_id FROM search_changes WHERE id > $1 ORDER BY id LIMIT $2").bind(after).bind(limit).fetch_all(pool).await?)
}

/// The model each channel's index uses, if one was chosen (`text`, `image`; `labs` has none).
pub async fn active_model(pool: &PgPool, channel: Channel) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT model FROM search_settings WHERE channel = $1").bind(channel).fetch_optional(pool).await?)
}

/// Records the model a channel's index now uses (`text` or `image`: the table refuses `labs`).
pub async fn set_active_model(pool: &PgPool, channel: Channel, model: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO search_settings (channel, model) VALUES ($1, $2)
         ON CONFLICT (channel) DO UPDATE SET model = EXCLUDED.model, set_at = now()",
    )
    .bind(channel)
    .bind(model)
    .execute(pool)
    .await?;
    Ok(())
}

/// Queues embedding jobs for every case lacking a vector for `model` in `channel` (after a
/// model change). Returns how many were queued; `labs` has no vectors and queues nothing.
pub async fn enqueue_missing(pool: &PgPool, channel: Channel, model: &str) -> Result<u64> {
    let sql = match channel {
        Channel::Labs => return Ok(0),
        Channel::Text => {
            "INSERT INTO embedding_jobs (case_id)
             SELECT c.id FROM cases c
             WHERE NOT EXISTS (SELECT 1 FROM text_vectors t WHERE t.case_id = c.id AND t.model = $1)
               AND NOT EXISTS (SELECT 1 FROM embedding_jobs j WHERE j.case_id = c.id AND j.state = 'pending')"
        }
        Channel::Image => {
            "INSERT INTO embedding_jobs (case_id)
             SELECT DISTINCT i.case_id FROM case_images i
             WHERE NOT EXISTS (SELECT 1 FROM image_vectors v WHERE v.image_id = i.id AND v.model = $1)
               AND NOT EXISTS (SELECT 1 FROM embedding_jobs j WHERE j.case_id = i.case_id AND j.state = 'pending')"
        }
    };
    Ok(sqlx::query(sql).bind(model).execute(pool).await?.rows_affected())
}

/// What a results list shows about each hit, by case id.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HitCase {
    pub id: i64,
    pub owner_id: UserId,
    /// A library case patients may meet as a teaching case.
    pub shareable: bool,
    pub title: String,
    /// The newest validation's diagnosis, else the recorded one.
    pub diagnosis: Option<String>,
    /// The newest review's action; `None`: unreviewed.
    pub review: Option<ReviewAction>,
    pub age_years: Option<i32>,
    pub sex: Option<String>,
    pub body_region: Option<String>,
    /// The first image, for a thumbnail when no image matched.
    pub first_image: Option<ImageId>,
}

/// Every stored vector of `channel` (the case's full text, or each scan) computed by `model`,
/// in case order: the real data `precedent bench ann --from-db` measures the index on.
pub async fn stored_vectors(pool: &PgPool, channel: Channel, model: &str) -> Result<Vec<Vec<f32>>> {
    let sql = match channel {
        Channel::Text => "SELECT vector FROM text_vectors WHERE field = 'full' AND model = $1 ORDER BY case_id",
        Channel::Image => "SELECT vector FROM image_vectors WHERE model = $1 ORDER BY case_id",
        Channel::Labs => return Ok(Vec::new()),
    };
    Ok(sqlx::query_scalar(sql).bind(model).fetch_all(pool).await?)
}

pub async fn hit_cases(pool: &PgPool, ids: &[i64]) -> Result<Vec<HitCase>> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.owner_id, c.shareable, c.title,
                COALESCE(lv.diagnosis, c.diagnosis) AS diagnosis, lv.action AS review,
                c.age_years, c.sex, c.body_region,
                (SELECT i.id FROM case_images i WHERE i.case_id = c.id ORDER BY i.position LIMIT 1) AS first_image
         FROM cases c
         LEFT JOIN LATERAL (SELECT v.diagnosis, v.action FROM validations v WHERE v.case_id = c.id
                            ORDER BY v.created_at DESC, v.id DESC LIMIT 1) lv ON TRUE
         WHERE c.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?)
}

/// Records (or changes) `judge`'s judgement of `hit` as a result for `query`.
pub async fn judge(pool: &PgPool, query: i64, hit: i64, judge: UserId, relevant: bool) -> Result<()> {
    sqlx::query(
        "INSERT INTO relevance_judgements (query_case, hit_case, judge_id, relevant) VALUES ($1, $2, $3, $4)
         ON CONFLICT (query_case, hit_case, judge_id) DO UPDATE SET relevant = EXCLUDED.relevant, created_at = now()",
    )
    .bind(query)
    .bind(hit)
    .bind(judge)
    .bind(relevant)
    .execute(pool)
    .await?;
    Ok(())
}

/// `judge`'s judgements of hits for `query`: (hit case, relevant).
pub async fn judgements_by(pool: &PgPool, query: i64, judge: UserId) -> Result<Vec<(i64, bool)>> {
    Ok(sqlx::query_as("SELECT hit_case, relevant FROM relevance_judgements WHERE query_case = $1 AND judge_id = $2")
        .bind(query)
        .bind(judge)
        .fetch_all(pool)
        .await?)
}

/// Every judged (query, hit) pair with the doctors' verdict: relevant when more doctors said
/// relevant than not (ties count as not relevant).
pub async fn judged_pairs(pool: &PgPool) -> Result<Vec<(i64, i64, bool)>> {
    Ok(sqlx::query_as(
        "SELECT query_case, hit_case, count(*) FILTER (WHERE relevant) > count(*) FILTER (WHERE NOT relevant)
         FROM relevance_judgements GROUP BY query_case, hit_case ORDER BY query_case, hit_case",
    )
    .fetch_all(pool)
    .await?)
}

/// Cases whose diagnosis — the latest review's, else the recorded one — contains `term`
/// (case-insensitive; `%` and `_` are literal). Each half starts from a trigram index
/// (migration `20261208000003`): matching reviews that are their case's latest, and matching
/// recorded diagnoses of cases never reviewed.
pub async fn cases_with_diagnosis(pool: &PgPool, term: &str) -> Result<Vec<i64>> {
    let pattern = format!("%{}%", term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    Ok(sqlx::query_scalar(
        "SELECT v.case_id FROM validations v
         WHERE v.diagnosis ILIKE $1
           AND NOT EXISTS (SELECT 1 FROM validations w WHERE w.case_id = v.case_id AND (w.created_at, w.id) > (v.created_at, v.id))
         UNION
         SELECT c.id FROM cases c
         WHERE c.diagnosis ILIKE $1 AND NOT EXISTS (SELECT 1 FROM validations w WHERE w.case_id = c.id)",
    )
    .bind(pattern)
    .fetch_all(pool)
    .await?)
}

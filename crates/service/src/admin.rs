//! Admin use cases: accounts (list, create with a role, disable or enable — never one's own),
//! the similarity index's status and rebuilds (optionally with other models from the manifest)
//! and the case-library imports. Admins only; every refusal is audited.
use crate::{audit, display_time, AppState};
use crate::{Caller, ServiceError};
use precedent_accounts::{can_manage_users, validate_email, validate_password, Actor};
use precedent_types::dto::AdminUserView;
use precedent_types::Channel;
use precedent_types::{Role, UserId};

async fn admin_only(st: &AppState, actor: Actor, action: &str, ip: &Option<String>) -> Result<(), ServiceError> {
    if can_manage_users(&actor) {
        return Ok(());
    }
    audit(&st.pool, Some(actor), action, None, ip.clone(), "denied").await?;
    Err(ServiceError::Forbidden)
}

pub fn progress_view(p: &precedent_similarity::Progress) -> precedent_types::dto::IndexProgressView {
    precedent_types::dto::IndexProgressView {
        running: p.running,
        phase: p.phase.clone(),
        done: p.done,
        total: p.total,
        rate_per_s: p.rate_per_s,
        eta_s: p.eta_s,
        finished: p.finished.clone(),
    }
}

/// The index's current state (for the page and the progress stream).
pub async fn index_status(c: &Caller) -> Result<precedent_types::dto::IndexStatusView, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    if !precedent_accounts::can_reindex(&actor) {
        audit(&st.pool, Some(actor), "admin.index", None, ip, "denied").await?;
        return Err(ServiceError::Forbidden);
    }
    let search = st.search()?;
    let engine = search.similarity.engine();
    let stats = engine.stats();
    let (dt, di) = engine.dims();
    let mb = |b: u64| b as f64 / 1e6;
    let channels = vec![
        precedent_types::dto::ChannelIndexView {
            channel: Channel::Text,
            model: Some(engine.text_model.clone()),
            dim: dt,
            vectors: stats.text.live,
            dead: stats.text.dead,
            memory_mb: mb(stats.text.memory_bytes),
        },
        precedent_types::dto::ChannelIndexView {
            channel: Channel::Image,
            model: engine.image_model.clone(),
            dim: di,
            vectors: stats.image.live,
            dead: stats.image.dead,
            memory_mb: mb(stats.image.memory_bytes),
        },
    ];
    let built_at = search.similarity.built_at().and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()).map(display_time);
    audit(&st.pool, Some(actor), "admin.index", None, ip, "ok").await?;
    Ok(precedent_types::dto::IndexStatusView {
        cases: stats.cases,
        channels,
        applied_change: search.similarity.applied_change(),
        jobs: precedent_store::embeddings::counts(&st.pool).await?,
        progress: progress_view(&search.similarity.progress()),
        built_at,
        process_rss_mb: process_rss_mb(),
        models: model_options(&search.manifest, &engine.text_model, engine.image_model.as_deref()),
    })
}

pub async fn start_reindex(c: &Caller, choice: crate::ModelChoice) -> Result<(), ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    if !precedent_accounts::can_reindex(&actor) {
        audit(&st.pool, Some(actor), "admin.reindex", None, ip, "denied").await?;
        return Err(ServiceError::Forbidden);
    }
    let search = st.search()?;
    audit(&st.pool, Some(actor), "admin.reindex", None, ip.clone(), "started").await?;
    let pool = st.pool.clone();
    let ip2 = ip.clone();
    let done: crate::ReindexDone = Box::new(move |r: Result<String, String>| {
        tokio::spawn(async move {
            let outcome = if r.is_ok() { "ok" } else { "failed" };
            if let Err(e) = audit(&pool, Some(actor), "admin.reindex", None, ip2, outcome).await {
                tracing::error!(error = %e, "could not audit the rebuild's outcome");
            }
        });
    });
    if let Err(e) = (search.reindex)(choice.clone(), done) {
        audit(&st.pool, Some(actor), "admin.reindex", None, ip, "refused").await?;
        return Err(e);
    }
    tracing::info!(text = ?choice.text, image = ?choice.image, "index rebuild started from the admin page");
    Ok(())
}

/// Resident memory of this process, from `/proc` (Linux).
fn process_rss_mb() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0 / 1e6)
}

/// The manifest's encoders, marking the ones the live index uses.
fn model_options(manifest: &std::path::Path, text: &str, image: Option<&str>) -> Vec<precedent_types::dto::ModelOptionView> {
    let Ok(m) = precedent_encoders::Manifest::load(manifest) else { return Vec::new() };
    m.encoders
        .iter()
        .map(|e| {
            let model = e.model_id();
            let channel = match e.modality {
                precedent_encoders::Modality::Text => Channel::Text,
                precedent_encoders::Modality::Image => Channel::Image,
            };
            precedent_types::dto::ModelOptionView { in_use: model == text || Some(model.as_str()) == image, name: e.name.clone(), model, channel }
        })
        .collect()
}

/// An `imports` row as the page shows it.
pub fn import_view(r: precedent_store::imports::ImportRow) -> precedent_types::dto::ImportView {
    let refused = match r.refused {
        serde_json::Value::Array(rows) => rows
            .into_iter()
            .map(|v| precedent_types::dto::RefusedRowView {
                line: v.get("line").and_then(|l| l.as_u64()).unwrap_or(0) as usize,
                key: v.get("key").and_then(|k| k.as_str()).map(str::to_string),
                reason: v.get("reason").and_then(|k| k.as_str()).unwrap_or("").to_string(),
            })
            .collect(),
        _ => Vec::new(),
    };
    precedent_types::dto::ImportView {
        id: r.id,
        filename: r.filename,
        shareable: r.shareable,
        status: r.status,
        phase: r.phase,
        total: r.total.into(),
        done: r.done.into(),
        imported: r.imported.into(),
        already_present: r.already_present.into(),
        refused,
        error: r.error,
        started_at: display_time(r.started_at),
        finished_at: r.finished_at.map(display_time),
    }
}

pub async fn imports(c: &Caller) -> Result<Vec<precedent_types::dto::ImportView>, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    admin_only(st, actor, "admin.imports", &ip).await?;
    let rows = precedent_store::imports::recent(&st.pool, 20).await?;
    audit(&st.pool, Some(actor), "admin.imports", None, ip, "ok").await?;
    Ok(rows.into_iter().map(import_view).collect())
}

pub async fn list(c: &Caller) -> Result<Vec<AdminUserView>, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    admin_only(st, actor, "admin.users", &ip).await?;
    let users = precedent_store::users::list(&st.pool).await?;
    audit(&st.pool, Some(actor), "admin.users", None, ip, "ok").await?;
    Ok(users
        .into_iter()
        .map(|u| AdminUserView {
            is_me: u.id == actor.id,
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            disabled: u.disabled,
            created_at: display_time(u.created_at),
            two_factor: u.two_factor,
            must_change_password: u.must_change_password,
            library: u.kind == precedent_types::AccountKind::Library,
        })
        .collect())
}

pub async fn create(c: &Caller, email: &str, display_name: &str, role: &str, password: String) -> Result<(), ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    admin_only(st, actor, "admin.user.create", &ip).await?;
    let role: Role = role.trim().parse().map_err(|_| ServiceError::Invalid("Choose a role: doctor, admin or patient.".into()))?;
    let email = validate_email(email).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    validate_password(&password, &email).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let name = display_name.trim().chars().take(120).collect::<String>();
    let hash = crate::hash_password(st, password).await?;
    let user = precedent_store::users::create(&st.pool, &email, &name, &hash, role).await?;
    audit(&st.pool, Some(actor), "admin.user.create", Some(("user", user.id.0)), ip, "ok").await?;
    tracing::info!(user = %user.id, role = %user.role, "account created by an admin");
    Ok(())
}

/// Gives a person's account a temporary password (returned, shown to the admin once), to be
/// changed at their next login; every session of theirs ends and two-factor sign-in is turned
/// off (a reset is for someone who lost their way in; they enrol again). Never one's own
/// account (the account page is for that), never the library owner.
pub async fn reset_password(c: &Caller, user_id: i64) -> Result<String, ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    admin_only(st, actor, "admin.user.reset_password", &ip).await?;
    if user_id == actor.id.0 {
        return Err(ServiceError::Invalid("Change your own password on your account page.".into()));
    }
    let temporary = precedent_accounts::password::temporary_password();
    let hash = crate::hash_password(st, temporary.clone()).await?;
    precedent_store::users::set_password(&st.pool, UserId(user_id), &hash, true).await?;
    precedent_store::users::clear_totp(&st.pool, UserId(user_id)).await?;
    audit(&st.pool, Some(actor), "admin.user.reset_password", Some(("user", user_id)), ip, "ok").await?;
    tracing::info!(user = user_id, "password reset by an admin");
    Ok(temporary)
}

pub async fn set_disabled(c: &Caller, user_id: i64, disabled: bool) -> Result<(), ServiceError> {
    let (st, actor, ip) = (&c.state, c.actor, c.ip.clone());
    admin_only(st, actor, "admin.user.disable", &ip).await?;
    if user_id == actor.id.0 {
        return Err(ServiceError::Invalid("You cannot disable your own account.".into()));
    }
    precedent_store::users::set_disabled(&st.pool, UserId(user_id), disabled).await?;
    audit(&st.pool, Some(actor), if disabled { "admin.user.disable" } else { "admin.user.enable" }, Some(("user", user_id)), ip, "ok").await?;
    Ok(())
}

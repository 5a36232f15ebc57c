//! `precedent import`, `precedent share` and `precedent synth`: case libraries in (and whether
//! patients may meet them as teaching cases), and synthetic libraries out.
use crate::config::Config;
use crate::import::Sharing;
use crate::{error::ServerError, seed, startup};
use std::path::Path;

/// Writes `cases` synthetic cases as a library folder in the import format.
pub fn synth(out: &Path, cases: usize, seed: u64) -> Result<(), ServerError> {
    let n = seed::export_synth(out, cases, seed)?;
    println!("wrote {n} synthetic case(s) to {}", out.display());
    Ok(())
}

/// Imports a library folder, with a progress bar; resumable and idempotent.
pub async fn import(cfg: &Config, dir: &Path, owner: Option<String>, shareable: bool, json: bool) -> Result<(), ServerError> {
    let sharing = if shareable { Sharing::Patients } else { Sharing::StaffOnly };
    startup::with_database(cfg, 4, |st| async move {
        let actor = match owner {
            Some(email) => {
                let c = precedent_store::users::find_credentials(&st.pool, &email).await?.ok_or_else(|| ServerError::other(format!("no account {email}")))?;
                precedent_accounts::Actor { id: c.user.id, role: c.user.role }
            }
            None => crate::import::library_owner(&st).await.map_err(ServerError::other)?,
        };
        let started = std::time::Instant::now();
        let report = crate::import::import(&st, dir, actor, sharing, |done, total, r| {
            if done % 10 == 0 || done == total {
                let width = 30;
                let filled = (done * width).checked_div(total).unwrap_or(width);
                eprint!(
                    "\r[{}{}] {done}/{total}  imported {}  present {}  refused {}",
                    "#".repeat(filled),
                    ".".repeat(width - filled),
                    r.imported,
                    r.already_present,
                    r.refused.len()
                );
            }
        })
        .await
        .map_err(ServerError::other)?;
        eprintln!();
        println!(
            "{}: {} rows, {} imported, {} already present, {} refused ({:.1}s)",
            report.library,
            report.rows,
            report.imported,
            report.already_present,
            report.refused.len(),
            started.elapsed().as_secs_f64()
        );
        for r in &report.refused {
            println!("  refused line {} {}: {}", r.line, r.key.as_deref().unwrap_or("-"), r.reason);
        }
        if sharing == Sharing::Patients {
            println!("shared with patients as a teaching library (undo: precedent share {} --off)", report.library);
        }
        if json {
            println!("{}", serde_json::to_string(&report).map_err(ServerError::other)?);
        }
        Ok(())
    })
    .await
}

/// Shares an imported library with patients as teaching cases, or stops sharing it.
pub async fn share(cfg: &Config, library: &str, on: bool) -> Result<(), ServerError> {
    startup::with_database(cfg, 2, |st| async move {
        let sharing = if on { Sharing::Patients } else { Sharing::StaffOnly };
        let changed = crate::import::set_sharing(&st, library, sharing).await.map_err(ServerError::other)?;
        let total = precedent_store::cases::count_from_source(&st.pool, &crate::import::source_of(library)).await?;
        if total == 0 {
            return Err(ServerError::other(format!("no imported library named {library:?}")));
        }
        let now = if on { "shared with patients" } else { "staff only" };
        println!("{library}: {total} case(s), {changed} changed; now {now}");
        Ok(())
    })
    .await
}

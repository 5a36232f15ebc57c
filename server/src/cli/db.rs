//! `precedent db start|stop|url` and `precedent migrate`: the managed PostgreSQL cluster and the schema.
use crate::config::Config;
use crate::{error::ServerError, pg, startup};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Start the cluster (initialising it if needed) and print its admin URL.
    Start {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Stop the cluster.
    Stop {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print the admin URL of the cluster.
    Url {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Starts, stops or locates the managed cluster.
pub fn run(cfg: &Config, command: DbCommand) -> Result<(), ServerError> {
    let dir_of = |d: Option<PathBuf>| d.unwrap_or_else(|| cfg.data_dir.clone());
    match command {
        DbCommand::Start { dir } => {
            let c = pg::ManagedPg::for_dir(&dir_of(dir))?;
            c.start()?;
            println!("{}", c.url("postgres"));
        }
        DbCommand::Stop { dir } => pg::ManagedPg::for_dir(&dir_of(dir))?.stop()?,
        DbCommand::Url { dir } => println!("{}", pg::ManagedPg::for_dir(&dir_of(dir))?.url("postgres")),
    }
    Ok(())
}

/// Applies the migrations and exits.
pub async fn migrate(cfg: &Config) -> Result<(), ServerError> {
    startup::with_database(cfg, 2, |_| async {
        println!("migrations applied");
        Ok(())
    })
    .await
}

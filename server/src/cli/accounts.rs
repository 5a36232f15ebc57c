//! `precedent user add|list` and `precedent demo`: accounts from the command line, and the demo
//! accounts with synthetic cases.
use crate::config::Config;
use crate::{error::ServerError, seed, startup};
use clap::Subcommand;
use precedent_types::Role;
use std::io::BufRead;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from PRECEDENT_PASSWORD or the first line of stdin.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "doctor")]
        role: Role,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List accounts.
    List,
}

/// Creates or lists accounts.
pub async fn run(cfg: &Config, command: UserCommand) -> Result<(), ServerError> {
    startup::with_database(cfg, 2, |st| async move {
        let pool = &st.pool;
        match command {
            UserCommand::Add { email, role, name } => {
                let email = precedent_accounts::validate_email(&email).map_err(ServerError::other)?;
                let password = match std::env::var("PRECEDENT_PASSWORD") {
                    Ok(p) if !p.is_empty() => p,
                    _ => {
                        eprintln!("password for {email} (one line on stdin):");
                        let mut line = String::new();
                        std::io::stdin().lock().read_line(&mut line)?;
                        line.trim_end_matches(['\r', '\n']).to_string()
                    }
                };
                precedent_accounts::validate_password(&password, &email).map_err(ServerError::other)?;
                let hash = precedent_accounts::hash_password(&password).map_err(ServerError::other)?;
                let user = precedent_store::users::create(pool, &email, &name, &hash, role).await?;
                println!("created {} account {} (id {})", user.role, user.email, user.id);
            }
            UserCommand::List => {
                for u in precedent_store::users::list(pool).await? {
                    println!("{:>5}  {:<8} {}{}", u.id, u.role, u.email, if u.disabled { "  (disabled)" } else { "" });
                }
            }
        }
        Ok(())
    })
    .await
}

/// Adds the demo accounts and `cases` synthetic cases (idempotent for the same seed).
pub async fn demo(cfg: &Config, cases: usize, seed: u64) -> Result<(), ServerError> {
    if let Some(reason) = cfg.demo_refusal() {
        return Err(ServerError::Other(reason));
    }
    let password = seed::demo_password(cfg.demo_password.as_deref());
    startup::with_database(cfg, 4, |st| async move {
        let started = std::time::Instant::now();
        let seeded = seed::seed_cases(&st, cases, seed, &password).await.map_err(ServerError::other)?;
        println!("added {} synthetic case(s) in {:.1}s", seeded.cases, started.elapsed().as_secs_f64());
        print_demo_accounts(seeded.new_password.as_deref());
        Ok(())
    })
    .await
}

/// The demo accounts, with their password when they were created just now (it is shown once).
pub fn print_demo_accounts(new_password: Option<&str>) {
    match new_password {
        Some(pw) => println!("Demo accounts created (password: {pw}; shown only now):"),
        None => println!("Demo accounts (password as printed when they were created, or PRECEDENT_DEMO_PASSWORD):"),
    }
    for (email, _, role) in seed::DEMO_ACCOUNTS {
        println!("  {role:<8} {email}");
    }
}

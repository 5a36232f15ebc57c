//! `precedent serve`: the web application until SIGINT/SIGTERM.
use crate::config::Config;
use crate::error::ServerError;
use crate::startup::Application;

/// Builds the application from `cfg` (seeding the demo into an empty database when asked)
/// and serves until a shutdown signal.
pub async fn serve(cfg: Config, demo: Option<usize>) -> Result<(), ServerError> {
    tracing::info!(config = ?cfg, "starting");
    let mut app = Application::builder(&cfg).demo(demo).build().await?;
    if demo.is_some() {
        super::accounts::print_demo_accounts(app.take_new_demo_password().as_deref());
    }
    println!("Precedent is serving on http://{}", app.address()?);
    app.run_until_stopped(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

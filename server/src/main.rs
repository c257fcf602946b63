use std::process::ExitCode;

use leptos::prelude::get_configuration;
use server::{Application, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal; the environment may carry everything.
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=info")))
        .init();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let mut leptos_options = match get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            eprintln!("configuration error: Leptos options: {error}");
            return ExitCode::from(2);
        }
    };
    // A site built with cargo-leptos' `hash-files` leaves `hash.txt` next to this binary; without
    // it the pages would name `/pkg` files that do not exist, so honour it unless told otherwise.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        leptos_options.hash_files = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(&*leptos_options.hash_file)))
            .is_some_and(|path| path.is_file());
    }
    let application = match Application::build(config, leptos_options).await {
        Ok(application) => application,
        Err(error) => {
            eprintln!("start-up failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let base = application.public_base().clone();
    match application.sandbox() {
        Some(_) => tracing::info!(%base, "serving on the embedded Linode sandbox: nothing is created on Linode"),
        None => tracing::info!(%base, "serving; deployments go to Linode"),
    }
    match application.run_until(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C or SIGTERM (what `cargo leptos watch` and process managers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight deployments");
}

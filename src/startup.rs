//! Building and running the application: database, state, listener, background tasks.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::{self, Db};
use crate::web::{self, AppState, session::Keys};

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects, migrates and binds `config.addr`.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {} (REDRESS_ADDR)", config.addr))?;
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        Application::with_parts(config, db, listener).await
    }

    /// Builds on an open database and a bound listener (tests bind port 0).
    pub async fn with_parts(config: Config, db: Db, listener: TcpListener) -> anyhow::Result<Application> {
        crate::webhooks::deliver::install_crypto_provider();
        let state = app_state(config, db).await?;
        // The first sign-in should not pay for the dummy hash used against unknown accounts.
        tokio::task::spawn_blocking(crate::auth::password::warm_up);
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish. The background
    /// tasks are told to stop as soon as `shutdown` completes, and waited for before this returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let router = web::router(self.state.clone());
        let tasks = BackgroundTasks::start(&self.state);
        let stop = tasks.stop.clone();
        // Responses leave in several writes (headers, then body chunks): with Nagle's algorithm on,
        // each waits for the client's delayed ACK, ~40 ms per static file (issue #19).
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY on an accepted connection");
            }
        });
        let served = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                shutdown.await;
                stop.cancel();
            })
            .await;
        tasks.stop().await;
        served
    }
}

/// The tasks a server runs beside its requests: started together, stopped by one token, and
/// each waited for, its exit logged.
struct BackgroundTasks {
    stop: CancellationToken,
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl BackgroundTasks {
    fn start(state: &AppState) -> BackgroundTasks {
        let stop = CancellationToken::new();
        let mut running = vec![
            ("housekeeping", tokio::spawn(housekeeping(state.db.clone(), stop.clone()))),
            ("deadline sweeper", crate::cases::sweep::spawn(state.db.clone(), state.config.clone(), stop.clone())),
            ("webhook sender", crate::webhooks::deliver::spawn(&state.config, &state.db, stop.clone())),
            ("exceptions check", crate::exceptions::check::spawn(state.db.clone(), state.config.clone(), stop.clone())),
        ];
        if let Some(sender) = crate::mail::sender::spawn(&state.config, &state.db, stop.clone()) {
            running.push(("outbox sender", sender));
        }
        BackgroundTasks { stop, running }
    }

    /// Cancels the token (if shutdown has not already) and waits for every task to end.
    async fn stop(self) {
        self.stop.cancel();
        for (task, handle) in self.running {
            match handle.await {
                Ok(()) => tracing::info!(task, "{task} stopped"),
                // Nothing aborts these tasks: an error here is a panic.
                Err(e) => tracing::error!(task, error = %e, "{task} panicked"),
            }
        }
    }
}

pub async fn app_state(config: Config, db: Db) -> anyhow::Result<AppState> {
    let secret = match &config.secret_key {
        Some(key) => key.expose().to_owned(),
        // Kept in the database so every process (and every restart) signs alike.
        None => db::settings::get_or_insert(&db, "secret_key", || hex::encode(rand::random::<[u8; 32]>())).await?,
    };
    let static_version = static_version(config.static_dir.as_deref());
    if config.metrics_token.is_some() {
        crate::metrics::install();
    }
    Ok(AppState {
        db,
        config: Arc::new(config),
        keys: Arc::new(Keys::new(secret.as_bytes())),
        limits: Arc::new(crate::auth::limits::Limits::new(secret.as_bytes())),
        static_version: static_version.into(),
    })
}

/// A short hash of the static files' names and contents, for cache-busting URLs: the files
/// built into the binary, or those of `REDRESS_STATIC_DIR` when it is set.
fn static_version(dir: Option<&std::path::Path>) -> String {
    let files: Vec<(String, Vec<u8>)> = match dir {
        None => crate::web::assets::all(),
        Some(dir) => {
            let mut paths: Vec<_> = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
            paths.sort();
            let files: Vec<_> = paths
                .into_iter()
                .filter(|p| p.is_file())
                .map(|p| {
                    (
                        p.file_name().unwrap_or_default().to_string_lossy().into_owned(),
                        std::fs::read(&p).unwrap_or_default(),
                    )
                })
                .collect();
            if files.is_empty() {
                tracing::warn!(dir = %dir.display(), "no static files found in REDRESS_STATIC_DIR");
            }
            files
        }
    };
    let mut hash = Sha256::new();
    for (name, content) in &files {
        hash.update(name.as_bytes());
        hash.update(content);
    }
    hex::encode(&hash.finalize()[..5])
}

/// Completes on Ctrl-C or SIGTERM (what container runtimes send).
pub async fn shutdown_signal() {
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
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Periodic upkeep until `stop` is cancelled: delete abuse-limit buckets that decide nothing
/// any more, and ended sessions.
async fn housekeeping(db: Db, stop: CancellationToken) {
    use crate::web::session::{ABSOLUTE_TIMEOUT_SECS, IDLE_TIMEOUT_SECS};
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = db::now_unix();
        if let Err(e) = db::limits::prune(&db, now).await {
            tracing::warn!(error = %e, "could not delete old abuse-limit buckets");
        }
        if let Err(e) =
            db::users::delete_expired_sessions(&db, now - IDLE_TIMEOUT_SECS, now - ABSOLUTE_TIMEOUT_SECS).await
        {
            tracing::warn!(error = %e, "could not delete expired sessions");
        }
    }
}

//! `Application`: binds the listener (port 0 works; `port()` tells which was chosen), serves
//! connections with hyper directly so that connection count and header-read time can be bounded,
//! and shuts down gracefully: stop accepting, let requests in flight finish, then return.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::auth::{LoginThrottle, PasswordHasher, ThrottleConfig};
use crate::config::ServeConfig;
use crate::connection::{self, PerIpLimit, Timeouts};
use crate::http::rate_limit::{Budget, RateLimits};
use crate::http::{self, App, AppState, Cors, Limits};
use crate::store;

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

pub struct Application {
    listener: TcpListener,
    /// Closed after the last request at shutdown (see `Store::close`).
    store: store::DynStore,
    /// `--metrics-addr`: its own listener and router.
    metrics: Option<(TcpListener, Router)>,
    router: Router,
    timeouts: Timeouts,
    max_connections: usize,
    per_ip: Arc<PerIpLimit>,
    /// Its streams are ended at shutdown, so that they do not hold it up.
    hub: Arc<http::events::Hub>,
    request_timeout: Duration,
}

/// How long shutdown waits for connections to finish once their streams are ended and their
/// requests answered; a client that will not read its last bytes is not waited for beyond it.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

impl Application {
    /// Opens and migrates the database, builds the app and binds the address.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Self> {
        Self::build_with_routes(config, None).await
    }

    /// As `build`, with extra routes mounted under the same layers (for tests).
    pub async fn build_with_routes(
        config: &ServeConfig,
        extra: Option<Router<AppState>>,
    ) -> anyhow::Result<Self> {
        // Bind first: an address in use must fail before a database is created for nothing.
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        let cors = Cors::from_origins(&config.cors_origins)?;
        tracing::info!(policy = %cors.describe(), "CORS: {}", cors.describe());
        let store = store::connect_with(
            &config.database.database_url,
            &config.database.connect_options(true),
        )
        .await?;
        let hub = http::events::Hub::new(
            store.clone(),
            http::events::HubConfig {
                retention: config.events_retention,
                max_subscribers: config.events_max_subscribers,
                max_per_ip: config.events_max_subscribers_per_ip,
                buffer: config.events_buffer,
            },
        );
        hub.start();
        let state = AppState(Arc::new(App {
            hub: hub.clone(),
            realworld: config.realworld,
            store: store.clone(),
            hasher: PasswordHasher::new(),
            limits: Limits {
                max_body_bytes: config.max_body_bytes,
                token_ttl: config.token_ttl,
                request_timeout: config.request_timeout,
            },
            cors,
            throttle: LoginThrottle::new(
                ThrottleConfig {
                    max_failures: config.login_max_failures,
                    account_max_failures: config.login_account_max_failures,
                    window: config.login_window,
                    lockout: config.login_lockout,
                },
                Some(store.clone()),
            ),
            metrics: Default::default(),
            metrics_enabled: config.metrics && config.metrics_addr.is_none(),
            rate_limits: RateLimits {
                api: config.rate_limit.map(|r| Budget::new("api", r, &store)),
                signup: config
                    .signup_limit
                    .map(|r| Budget::new("signup", r, &store)),
                trust_forwarded_for: config.trust_forwarded_for,
            },
        }));
        let router = http::app(state.clone(), extra);
        let metrics = match config.metrics_addr.filter(|_| config.metrics) {
            Some(addr) => Some((
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (--metrics-addr)"))?,
                http::metrics::private_router(state),
            )),
            None => None,
        };
        Ok(Self {
            listener,
            store,
            metrics,
            router,
            timeouts: Timeouts {
                header: config.header_timeout,
                idle: config.idle_timeout,
            },
            max_connections: config.max_connections.max(1),
            per_ip: PerIpLimit::new(config.max_connections_per_ip),
            hub,
            request_timeout: config.request_timeout,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until `shutdown` resolves, then waits for open requests to finish.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), "listening on {}", self.local_addr());
        let (stop_tx, stop_rx) = watch::channel(false);
        if let Some((listener, router)) = self.metrics.take() {
            let addr = listener.local_addr()?;
            tracing::info!(%addr, "metrics listening on {addr}");
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = stop.changed().await;
                };
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            });
        }
        let connections = Arc::new(Semaphore::new(self.max_connections));
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                permit = connections.clone().acquire_owned() => permit?,
                () = &mut shutdown => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Some(slot) = self.per_ip.try_hold(peer.ip()) else {
                // This address holds its share already: close at once, keeping the permit.
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let router = self.router.clone();
            let timeouts = self.timeouts;
            let stop_rx = stop_rx.clone();
            tokio::spawn(async move {
                let _held = (permit, slot);
                connection::serve(stream, peer, router, timeouts, stop_rx).await;
            });
        }
        tracing::info!("shutting down: finishing requests in flight");
        drop(self.listener);
        stop_tx.send_replace(true);
        self.hub.shutdown();
        // Every connection task holds a permit; all permits back means all connections closed.
        let all = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        let deadline = self.request_timeout + SHUTDOWN_DEADLINE;
        if tokio::time::timeout(deadline, connections.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!("shutting down with connections still open after {deadline:?}");
        }
        if let Err(e) = self.store.close().await {
            tracing::warn!(error = %e, "closing the database");
        }
        tracing::info!("shut down");
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed here, before the caller logs
/// `listening on`, so that a signal sent as soon as the address is known is never missed.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut i), Ok(mut t)) => {
                    tokio::select! {
                        _ = i.recv() => {}
                        _ = t.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

//! The HTTP surface: one module per resource, each with its own `router()`, merged here under the
//! layers every response passes through.

pub mod auth;
pub mod body;
pub(crate) mod comments;
mod conditional;
mod docs;
pub mod events;
mod feed;
mod follows;
mod health;
pub mod idempotency;
pub mod json;
mod likes;
pub mod metrics;
mod middleware;
pub mod openapi;
pub mod pagination;
mod post_json;
mod posts;
pub mod rate_limit;
pub mod realworld;
mod schema;
mod tags;
mod tokens;
mod user_json;
mod users;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::{LoginThrottle, PasswordHasher};
use crate::error::{error_response, ApiError};
use crate::store::DynStore;

pub use middleware::Cors;
pub use post_json::PostJson;

/// Limits applied per request.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub token_ttl: Duration,
    pub request_timeout: Duration,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("limits", &self.limits)
            .field("metrics_enabled", &self.metrics_enabled)
            .finish_non_exhaustive()
    }
}

/// Everything a handler may need, shared by all requests.
pub struct App {
    pub store: DynStore,
    pub hasher: PasswordHasher,
    pub limits: Limits,
    pub cors: Cors,
    pub throttle: LoginThrottle,
    pub rate_limits: rate_limit::RateLimits,
    pub metrics: metrics::Metrics,
    /// The realtime hub behind `GET /api/events`.
    pub hub: Arc<events::Hub>,
    /// Whether the RealWorld API is mounted at `/realworld/api` (`--realworld`).
    pub realworld: bool,
    /// Whether `GET /metrics` answers on the API's address (`--metrics`, and no `--metrics-addr`).
    pub metrics_enabled: bool,
}

#[derive(Clone, Debug)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The whole application. `extra` lets tests mount routes of their own (a handler that panics)
/// under the same layers as the real ones.
pub fn app(state: AppState, extra: Option<Router<AppState>>) -> Router {
    let (mut routes, doc) = api_router().split_for_parts();
    openapi::publish(doc);
    routes = routes.merge(docs::router());
    if state.realworld {
        routes = routes.merge(realworld::router());
    }
    if let Some(extra) = extra {
        routes = routes.merge(extra);
    }
    let routes = routes
        .fallback(|| async { ApiError::NotFound("Not found") })
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn(middleware::record_route))
        .with_state(state.clone());
    // The router adds `Allow` to its 405s outside any layer of its own, so the layers that must
    // see it wrap the router from outside. Outermost last: observe -> cors -> rate limits ->
    // idempotency -> json_errors (rate limits inside CORS so a browser can read its 429; a
    // replayed answer is the final one, JSON errors included).
    Router::new()
        .fallback_service(routes)
        .layer(from_fn(middleware::json_errors))
        .layer(from_fn_with_state(state.clone(), idempotency::idempotency))
        .layer(from_fn_with_state(state.clone(), rate_limit::limit))
        .layer(from_fn_with_state(state.clone(), middleware::cors))
        .layer(from_fn_with_state(state, middleware::observe))
}

/// Every documented route, with the document generated from their annotations.
fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(users::router())
        .merge(follows::router())
        .merge(feed::router())
        .merge(events::router())
        .merge(tokens::router())
        .merge(posts::router())
        .merge(likes::router())
        .merge(comments::router())
        .merge(tags::router())
        .merge(health::router())
        .routes(utoipa_axum::routes!(openapi::document))
        .routes(utoipa_axum::routes!(metrics::metrics))
}

/// The OpenAPI document the running server describes itself with.
pub fn openapi_document() -> serde_json::Value {
    openapi::finish(api_router().split_for_parts().1)
}

/// A path id, as the original's `<int:id>`: anything but digits is a route that does not exist.
pub fn parse_id(raw: &str, not_found: &'static str) -> Result<i64, ApiError> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::NotFound(not_found));
    }
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ApiError::NotFound(not_found))
}

/// A 201's `Location`: where the new resource is.
pub fn created(mut res: axum::response::Response, location: &str) -> axum::response::Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(location) {
        res.headers_mut()
            .insert(axum::http::header::LOCATION, value);
    }
    res
}

/// The response of a panicking handler: a plain 500, detail only in the log (with the request id,
/// from the request's span), so that a bug report can be matched to its cause.
fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    tracing::error!(panic = %message, "a handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal server error",
    )
}

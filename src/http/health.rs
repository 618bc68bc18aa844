//! Probes for load balancers and orchestrators, outside `/api`.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::error::ApiError;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process is up and serving.
///
/// Says nothing about the database, so a database outage does not get healthy instances
/// restarted: a liveness probe.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "operations",
    responses((status = 200, description = "Serving", body = Object,
        headers(("Cache-Control" = String, description = "`no-cache`")),
        example = json!({"status": "ok"}))))]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database is reachable and migrated: send traffic here.
///
/// A readiness probe: 503 while the database is unreachable or its schema is not the one this
/// binary expects.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "operations",
    responses((status = 200, description = "Ready for traffic", body = Object,
        headers(("Cache-Control" = String, description = "`no-cache`")),
        example = json!({"status": "ready"}))))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .store
        .ready()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(json!({ "status": "ready" })))
}

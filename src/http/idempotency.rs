//! `Idempotency-Key` on `POST`: a client that did not hear the answer to a create can send the
//! same request again with the same key and get the first answer (status, headers and body, with
//! `Idempotent-Replayed: true`) instead of a second post or account. Keys are the client's choice
//! (1-255 visible ASCII characters), kept per user (per client address for sign-up, which has no
//! user yet) for 24 hours, in the database, so a retry may reach any instance.
//!
//! - The same key with a different request (method, path or body): 422.
//! - The same key while its first request still runs: 409; retry later.
//! - A first request that failed with 5xx, or never ran (timed out before its write began, or
//!   its client left), leaves no record: the retry runs afresh.
//! - Log-in (`POST /api/tokens`) is not covered: it creates nothing a retry could duplicate, and
//!   saving its answer would keep a live token in the database in plain text.
//!
//! The record is written beside the request's own transaction, not in it: should the process die
//! between the two, the key stays "in progress" until it is stale (twice the request timeout)
//! and a retry after that runs again.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::rate_limit::client_ip;
use super::AppState;
use crate::auth::parse_bearer;
use crate::domain::Timestamp;
use crate::error::ApiError;
use crate::store::gate::{self, WriteGate};
use crate::store::idempotency::{Claimed, IdempotencyClaim, SavedResponse};

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a key and its answer are kept.
pub const KEPT_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// The response headers a replay repeats.
const SAVED_HEADERS: [header::HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::ETAG,
    header::CACHE_CONTROL,
    header::VARY,
];

pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    guarded(state, req, next)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn guarded(state: AppState, req: Request, next: Next) -> Result<Response, ApiError> {
    let raw = match req.headers().get(&IDEMPOTENCY_KEY) {
        Some(raw) if req.method() == Method::POST && req.uri().path() != "/api/tokens" => raw,
        _ => return Ok(next.run(req).await),
    };
    let key = parse_key(raw.as_bytes())?;
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let Some(scope) = scope(&state, req.headers(), peer).await? else {
        // A token that is no good: the route answers 401, and nothing is recorded.
        return Ok(next.run(req).await);
    };
    let (parts, body) = req.into_parts();
    let limit = state.limits.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(limit))?;
    let mut digest = Sha256::new();
    digest.update(parts.method.as_str());
    digest.update(b"\n");
    digest.update(parts.uri.path_and_query().map_or("", |p| p.as_str()));
    digest.update(b"\n");
    digest.update(&bytes);
    let now = Timestamp::now();
    let claim = IdempotencyClaim {
        scope: scope.clone(),
        key: key.clone(),
        fingerprint: digest.finalize().into(),
        now,
        stale_before: now.minus(state.limits.request_timeout * 2),
        expired_before: now.minus(KEPT_FOR),
    };
    match state.store.claim_idempotency_key(claim).await? {
        Claimed::InProgress => Err(ApiError::Conflict(
            "A request with this Idempotency-Key is still in progress; retry shortly",
        )),
        Claimed::Mismatch => Err(ApiError::Unprocessable(
            "This Idempotency-Key was used with a different request",
        )),
        Claimed::Done(saved) => Ok(replay(saved)),
        Claimed::New => {
            let mut release = Release {
                state: state.clone(),
                scope,
                key,
                gate: gate::current(),
                armed: true,
                answered_5xx: false,
            };
            let res = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            if res.status().is_server_error() {
                // Nothing was committed (a 5xx never follows a commit): the retry runs afresh.
                release.answered_5xx = true;
                return Ok(res);
            }
            let (parts, body) = res.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let saved = SavedResponse {
                status: parts.status.as_u16(),
                headers: saved_headers(&parts.headers),
                body: body.to_vec(),
            };
            release.armed = false;
            let (scope, key) = (release.scope.clone(), release.key.clone());
            if let Err(e) = state
                .store
                .save_idempotent_response(scope, key, saved)
                .await
            {
                tracing::warn!(error = %e, "could not save the answer for an Idempotency-Key");
            }
            Ok(Response::from_parts(parts, Body::from(body)))
        }
    }
}

/// 1-255 visible ASCII characters.
fn parse_key(raw: &[u8]) -> Result<String, ApiError> {
    let ok = (1..=255).contains(&raw.len()) && raw.iter().all(u8::is_ascii_graphic);
    if !ok {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1-255 visible ASCII characters",
        ));
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}

/// Whose key space this request uses: the token's user, or without a token the client address.
/// `None` for a token that is not valid.
async fn scope(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> Result<Option<String>, ApiError> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let Some(hash) = parse_bearer(auth.as_bytes()) else {
            return Ok(None);
        };
        let user = state.store.token_user(hash.0, Timestamp::now()).await?;
        return Ok(user.map(|u| format!("user:{}", u.id)));
    }
    let ip = client_ip(headers, peer, state.rate_limits.trust_forwarded_for);
    Ok(Some(format!(
        "ip:{}",
        ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    )))
}

fn saved_headers(headers: &axum::http::HeaderMap) -> String {
    let map: serde_json::Map<String, serde_json::Value> = SAVED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.into()))
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn replay(saved: SavedResponse) -> Response {
    let mut res = Response::new(Body::from(saved.body));
    *res.status_mut() = axum::http::StatusCode::from_u16(saved.status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&saved.headers).unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(HeaderValue::from_str),
        ) {
            res.headers_mut().insert(name, value);
        }
    }
    res.headers_mut()
        .insert(REPLAYED.clone(), HeaderValue::from_static("true"));
    res
}

/// Gives the claimed key up unless the request's answer was saved. Dropped with the request (it
/// timed out, or its client left) it first closes the request's write gate: if no write has
/// begun, none will, and the key is released; if one has, the key stays claimed until stale.
struct Release {
    state: AppState,
    scope: String,
    key: String,
    gate: Option<std::sync::Arc<WriteGate>>,
    armed: bool,
    /// The request ended in a 5xx: released whatever the gate says.
    answered_5xx: bool,
}

impl Drop for Release {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let abandoned = self.gate.as_ref().is_none_or(|g| g.abandon());
        if !(self.answered_5xx || abandoned) {
            return;
        }
        let (state, scope, key) = (
            self.state.clone(),
            std::mem::take(&mut self.scope),
            std::mem::take(&mut self.key),
        );
        tokio::spawn(async move {
            if let Err(e) = state.store.release_idempotency_key(scope, key).await {
                tracing::warn!(error = %e, "could not release an Idempotency-Key");
            }
        });
    }
}

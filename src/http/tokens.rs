//! `/api/tokens`: log in (issue a token) and log out (revoke the one presented); `/api/profile`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::json::JsonObject;
use super::users::{no_store, private, PrivateUser};
use super::AppState;
use crate::auth::{AuthUser, Token};
use crate::domain::{Password, Timestamp};
use crate::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tokens", post(login))
        .route("/api/tokens/current", delete(logout))
        .route("/api/profile", get(profile))
}

/// The answer to a successful login; the only time the token itself is ever shown.
#[derive(Serialize)]
struct Issued<'a> {
    token: &'a str,
    expires_at: Timestamp,
    user: PrivateUser<'a>,
}

async fn login(State(state): State<AppState>, body: JsonObject) -> Result<Response, ApiError> {
    let username = body
        .opt_string("username")?
        .ok_or_else(|| ApiError::required("username", "Username required"))?;
    let password = body
        .opt_string("password")?
        .ok_or_else(|| ApiError::required("password", "Password required"))?;
    // A password no account can have is refused without hashing; it says nothing about the user.
    if password.chars().count() > Password::MAX || username.len() > 64 {
        return Err(ApiError::InvalidCredentials);
    }
    let found = state.store.credentials(username).await?;
    // Unknown users are checked against a decoy hash: same answer, same time as a wrong password.
    let ok = state
        .hasher
        .verify(password, found.as_ref().map(|c| c.password_hash.as_str()))
        .await?;
    let Some(credentials) = found.filter(|_| ok) else {
        tracing::warn!(username, "failed login");
        return Err(ApiError::InvalidCredentials);
    };
    let user = credentials.user;
    let token = Token::generate();
    let now = Timestamp::now();
    let expires_at = now.plus(state.limits.token_ttl);
    state
        .store
        .create_token(user.id, token.hash().0, now, expires_at)
        .await?;
    let body = Issued {
        token: token.as_str(),
        expires_at,
        user: private(&user),
    };
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

async fn logout(State(state): State<AppState>, caller: AuthUser) -> Result<StatusCode, ApiError> {
    state.store.revoke_token(caller.token.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn profile(caller: AuthUser) -> Response {
    no_store(Json(private(&caller.user)).into_response())
}

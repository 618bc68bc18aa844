//! `/api/tokens`: log in (issue a token) and log out (revoke the one presented); `/api/profile`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AuthUser;
use super::body::Body;
use super::metrics::Metrics;
use super::openapi::ErrorDoc;
use super::rate_limit::ClientIp;
use super::user_json::{no_store, private, PrivateUser};
use super::AppState;
use crate::auth::{Admitted, Token};
use crate::domain::{Password, Timestamp, Username};
use crate::error::ApiError;
use crate::store::User;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(profile))
}

// Plain strings, not `Username`/`Password`: a login with a name or password no account can have
// is a 401 like any other wrong guess, not a 400 that tells the rules.
/// Log-in credentials.
#[derive(Deserialize, ToSchema)]
struct Login {
    username: String,
    password: String,
}

/// The answer to a successful login; the only time the token itself is ever shown.
#[derive(Serialize, ToSchema)]
#[schema(as = TokenIssued)]
struct Issued<'a> {
    /// `pb_` and 43 base64url characters; send it as `Authorization: Bearer <token>`.
    token: &'a str,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
    user: PrivateUser<'a>,
}

/// Log in: exchange a username and password for a bearer token.
///
/// The token is shown in this answer only (`no-store`); it lasts until `expires_at` or until
/// `DELETE /api/tokens/current`. Repeated failures on one account are throttled (429).
#[utoipa::path(post, path = "/api/tokens", operation_id = "createToken", tag = "tokens",
    request_body(content = Login, content_type = "application/json",
        example = json!({"username": "ada_l", "password": "correct horse battery staple"})),
    responses(
        (status = 201, description = "A new token", body = Issued,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "`Invalid username or password`: the same for an unknown user and a wrong password", body = ErrorDoc,
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 429, description = "Too many failed logins for this account; wait `Retry-After` seconds", body = ErrorDoc,
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Body(Login { username, password }): Body<Login>,
) -> Result<Response, ApiError> {
    // A name or password no account can have is refused without hashing: it says nothing about
    // any user. Usernames are ASCII by their own rules, so one canonical form (ASCII lower case)
    // serves lookup, uniqueness and throttling alike, and no Unicode case folding of a database
    // can make `\u{212A}ate` reach `kate`.
    let Ok(username) = Username::parse(&username) else {
        Metrics::count(&state.metrics.logins_failed);
        tracing::warn!("failed login: not a possible username");
        return Err(ApiError::InvalidCredentials);
    };
    if password.chars().count() > Password::MAX {
        Metrics::count(&state.metrics.logins_failed);
        tracing::warn!("failed login: not a possible password");
        return Err(ApiError::InvalidCredentials);
    }
    let account = username.as_str().to_ascii_lowercase();
    let (user, token, expires_at) = sign_in(&state, client, &account, &password).await?;
    let body = Issued {
        token: token.as_str(),
        expires_at,
        user: private(&user),
    };
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

/// Checks `password` for the account named `account` (a username in ASCII lower case) under the
/// login throttle, and issues a token: the user, the token and its expiry. An account that does
/// not exist costs the same time as a wrong password (a decoy hash) and gets the same 401. The
/// RealWorld surface, which logs in by email, names its accounts through here too.
pub(super) async fn sign_in(
    state: &AppState,
    client: std::net::IpAddr,
    account: &str,
    password: &str,
) -> Result<(User, Token, Timestamp), ApiError> {
    let Admitted {
        attempt,
        credentials: found,
    } = match state.throttle.begin(account, client).await? {
        Ok(admitted) => admitted,
        Err(wait) => {
            Metrics::count(&state.metrics.logins_throttled);
            tracing::warn!(
                %client,
                "login refused: throttled after repeated failures"
            );
            return Err(ApiError::TooManyRequests {
                message: "Too many failed logins for this account; try again later",
                retry_after: wait,
            });
        }
    };
    // Unknown users are checked against a decoy hash: same answer, same time as a wrong password.
    let ok = state
        .hasher
        .verify(password, found.as_ref().map(|c| c.password_hash.as_str()))
        .await?;
    let known = found.is_some();
    let Some(credentials) = found.filter(|_| ok) else {
        Metrics::count(&state.metrics.logins_failed);
        let failures = attempt.failed().await;
        // A name that is no account may be a password typed in the wrong box: never log it.
        if known {
            tracing::warn!(username = %account, failures, %client, "failed login");
        } else {
            tracing::warn!(failures, %client, "failed login: unknown account");
        }
        return Err(ApiError::InvalidCredentials);
    };
    attempt.succeeded().await;
    Metrics::count(&state.metrics.logins_succeeded);
    let user = credentials.user;
    let (token, expires_at) = issue_token(state, user.id).await?;
    Ok((user, token, expires_at))
}

/// A new token for `user_id`, stored hashed, lasting `--token-ttl`.
pub(super) async fn issue_token(
    state: &AppState,
    user_id: i64,
) -> Result<(Token, Timestamp), ApiError> {
    let token = Token::generate();
    let now = Timestamp::now();
    let expires_at = now.plus(state.limits.token_ttl);
    state
        .store
        .create_token(user_id, token.hash().0, now, expires_at)
        .await?;
    Metrics::count(&state.metrics.tokens_issued);
    Ok((token, expires_at))
}

/// Log out: revoke the token this request carries.
///
/// The account's other tokens (other devices) stay valid.
#[utoipa::path(delete, path = "/api/tokens/current", operation_id = "deleteCurrentToken", tag = "tokens",
    security(("bearer" = [])),
    responses((status = 204, description = "Revoked; the token is refused from the next request on")))]
async fn logout(State(state): State<AppState>, caller: AuthUser) -> Result<StatusCode, ApiError> {
    if state.store.revoke_token(caller.token.0).await? {
        Metrics::count(&state.metrics.tokens_revoked);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own account, including the email.
///
/// Which account a token belongs to; never stored by caches (`no-store`), as it holds the email.
#[utoipa::path(get, path = "/api/profile", operation_id = "getProfile", tag = "tokens",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = PrivateUser,
        headers(("Cache-Control" = String, description = "`no-store`")))))]
async fn profile(caller: AuthUser) -> Response {
    no_store(Json(private(&caller.user)).into_response())
}

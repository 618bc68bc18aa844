//! `/profiles/{username}`: someone's profile, and following them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::views::{self, ProfileEnvelope};
use super::{answer, Caller, MaybeCaller};
use crate::domain::Timestamp;
use crate::error::{ApiError, Conduit};
use crate::store::User;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(follow, unfollow))
}

const NOT_FOUND: &str = "Profile not found";

/// The user named `username` (any case), as `viewer` sees them, or 404.
pub(super) async fn by_name(
    state: &AppState,
    username: &str,
    viewer: Option<i64>,
) -> Result<User, Conduit> {
    Ok(state
        .store
        .user_by_username(username, viewer)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?)
}

/// A profile; `following` says whether the caller follows them.
#[utoipa::path(get, path = "/realworld/api/profiles/{username}", operation_id = "GetProfileByUsername", tag = "realworld",
    security((), ("token" = [])),
    params(("username" = String, Path, description = "Username of the profile")),
    responses(
        (status = 200, description = "The profile", body = ProfileEnvelope),
        (status = 404, description = "No such user"),
    ))]
async fn show(
    State(state): State<AppState>,
    Path(username): Path<String>,
    caller: MaybeCaller,
) -> Result<Response, Conduit> {
    let user = by_name(&state, &username, caller.id()).await?;
    Ok(answer(StatusCode::OK, views::profile_envelope(&user)))
}

/// Follow someone (idempotent).
#[utoipa::path(post, path = "/realworld/api/profiles/{username}/follow", operation_id = "FollowUserByUsername", tag = "realworld",
    security(("token" = [])),
    params(("username" = String, Path, description = "Username of the profile")),
    responses(
        (status = 200, description = "The profile, followed", body = ProfileEnvelope),
        (status = 401, description = "No valid token"),
        (status = 404, description = "No such user"),
        (status = 422, description = "Following oneself"),
    ))]
async fn follow(
    State(state): State<AppState>,
    Path(username): Path<String>,
    caller: Caller,
) -> Result<Response, Conduit> {
    let me = caller.user.id;
    let user = by_name(&state, &username, Some(me)).await?;
    if user.id == me {
        return Err(Conduit(ApiError::bad_request(
            "cannot_follow_self",
            "You cannot follow yourself",
        )));
    }
    let user = state
        .store
        .follow(me, user.id, Timestamp::now())
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok(answer(StatusCode::OK, views::profile_envelope(&user)))
}

/// Stop following someone (idempotent).
#[utoipa::path(delete, path = "/realworld/api/profiles/{username}/follow", operation_id = "UnfollowUserByUsername", tag = "realworld",
    security(("token" = [])),
    params(("username" = String, Path, description = "Username of the profile")),
    responses(
        (status = 200, description = "The profile, not followed", body = ProfileEnvelope),
        (status = 401, description = "No valid token"),
        (status = 404, description = "No such user"),
    ))]
async fn unfollow(
    State(state): State<AppState>,
    Path(username): Path<String>,
    caller: Caller,
) -> Result<Response, Conduit> {
    let me = caller.user.id;
    let user = by_name(&state, &username, Some(me)).await?;
    let user = state
        .store
        .unfollow(me, user.id)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok(answer(StatusCode::OK, views::profile_envelope(&user)))
}

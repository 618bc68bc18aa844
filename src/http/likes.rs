//! Likes: `PUT` and `DELETE /api/posts/{id}/like`, idempotent, each answering with the post as the
//! caller now sees it (`liked`, the new `like_count`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AuthUser;
use super::openapi::ErrorDoc;
use super::posts::{post_response, PostJson, NOT_FOUND};
use super::{parse_id, AppState};
use crate::domain::Timestamp;
use crate::error::ApiError;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(like, unlike))
}

/// Like a post as the token's user.
///
/// Idempotent: liking a post you like already changes nothing.
#[utoipa::path(put, path = "/api/posts/{id}/like", operation_id = "likePost", tag = "posts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id", minimum = 1)),
    responses(
        (status = 200, description = "The post, liked", body = PostJson),
        (status = 404, description = "No such post", body = ErrorDoc),
    ))]
async fn like(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
) -> Result<Response, ApiError> {
    set(&state, &id, &caller, true).await
}

/// Take back a like.
///
/// Idempotent: unliking a post you do not like changes nothing.
#[utoipa::path(delete, path = "/api/posts/{id}/like", operation_id = "unlikePost", tag = "posts",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id", minimum = 1)),
    responses(
        (status = 200, description = "The post, not liked", body = PostJson),
        (status = 404, description = "No such post", body = ErrorDoc),
    ))]
async fn unlike(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
) -> Result<Response, ApiError> {
    set(&state, &id, &caller, false).await
}

/// Likes or unlikes the post for the caller; the post as they now see it.
async fn set(
    state: &AppState,
    raw_id: &str,
    caller: &AuthUser,
    like: bool,
) -> Result<Response, ApiError> {
    let id = parse_id(raw_id, NOT_FOUND)?;
    let user = caller.user.id;
    let post = if like {
        state.store.like(id, user, Timestamp::now()).await?
    } else {
        state.store.unlike(id, user).await?
    };
    let post = post.ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok(post_response(StatusCode::OK, &post))
}

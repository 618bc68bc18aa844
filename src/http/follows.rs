//! Follows: `PUT` and `DELETE /api/users/{id}/follow`, idempotent, each answering with the user
//! as the caller now sees them (`following`, the new `follower_count`); and the lists of a user's
//! followers and of whom they follow, newest follow first.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AuthUser, MaybeAuthUser};
use super::conditional::Versioned;
use super::openapi::ErrorDoc;
use super::pagination::{finish_page, page_response, ListKind, ListParams};
use super::posts::varies_by_token;
use super::user_json::{public, PublicUser, UserPage};
use super::users::{load, NOT_FOUND};
use super::{parse_id, AppState};
use crate::domain::Timestamp;
use crate::error::ApiError;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(follow, unfollow))
        .routes(routes!(followers))
        .routes(routes!(following))
}

/// Follow a user as the token's user.
///
/// Idempotent: following someone you follow already changes nothing. Their posts, past and
/// future, appear in your feed (`GET /api/feed`).
#[utoipa::path(put, path = "/api/users/{id}/follow", operation_id = "followUser", tag = "follows",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id", minimum = 1)),
    responses(
        (status = 200, description = "The user, followed", body = PublicUser),
        (status = 400, description = "`You cannot follow yourself`", body = ErrorDoc),
        (status = 404, description = "No such user", body = ErrorDoc),
    ))]
async fn follow(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
) -> Result<Response, ApiError> {
    set(&state, &id, &caller, true).await
}

/// Stop following a user.
///
/// Idempotent: unfollowing someone you do not follow changes nothing. Their posts leave your feed.
#[utoipa::path(delete, path = "/api/users/{id}/follow", operation_id = "unfollowUser", tag = "follows",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id", minimum = 1)),
    responses(
        (status = 200, description = "The user, not followed", body = PublicUser),
        (status = 400, description = "`You cannot follow yourself`", body = ErrorDoc),
        (status = 404, description = "No such user", body = ErrorDoc),
    ))]
async fn unfollow(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
) -> Result<Response, ApiError> {
    set(&state, &id, &caller, false).await
}

/// Follows or unfollows the user for the caller; the user as they now see them.
async fn set(
    state: &AppState,
    raw_id: &str,
    caller: &AuthUser,
    follow: bool,
) -> Result<Response, ApiError> {
    let id = parse_id(raw_id, NOT_FOUND)?;
    let me = caller.user.id;
    if id == me {
        return Err(ApiError::bad_request(
            "cannot_follow_self",
            "You cannot follow yourself",
        ));
    }
    let user = if follow {
        state.store.follow(me, id, Timestamp::now()).await?
    } else {
        state.store.unfollow(me, id).await?
    };
    let user = user.ok_or(ApiError::NotFound(NOT_FOUND))?;
    let mut res = Json(public(&user)).into_response();
    res.headers_mut().insert(header::ETAG, user.etag());
    Ok(varies_by_token(res))
}

/// Which list of a user's follows.
#[derive(Clone, Copy)]
enum Side {
    Followers,
    Following,
}

async fn list(
    state: &AppState,
    raw_id: &str,
    side: Side,
    query: Option<&str>,
    viewer: &MaybeAuthUser,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let params = ListParams::parse(ListKind::Follows, query)?;
    let user = load(state, raw_id, None).await?;
    let (rows, path) = match side {
        Side::Followers => (
            state
                .store
                .followers(user.id, viewer.id(), params.probe())
                .await?,
            format!("/api/users/{}/followers", user.id),
        ),
        Side::Following => (
            state
                .store
                .following(user.id, viewer.id(), params.probe())
                .await?,
            format!("/api/users/{}/following", user.id),
        ),
    };
    let (rows, next_cursor, link) = finish_page(ListKind::Follows, &path, &params, rows, |f| f.id);
    let users = rows.iter().map(|f| public(&f.user)).collect();
    let page = page_response(headers, &UserPage { users, next_cursor }, link)?;
    Ok(varies_by_token(page))
}

/// Who follows a user, newest follow first.
///
/// Public; paged and revalidated like `GET /api/users`. With a token, each shows `following`.
#[utoipa::path(get, path = "/api/users/{id}/followers", operation_id = "listFollowers", tag = "follows",
    params(
        ("id" = i64, Path, description = "User id", minimum = 1),
        ("limit" = Option<u32>, Query, description = "Page size", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page (empty: the first page)", pattern = "^([A-Za-z0-9_-]{23})?$"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy of this page"),
    ),
    responses(
        (status = 200, description = "A page of followers", body = UserPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "The page's version (a hash of its content)"),
                ("Vary" = String, description = "`Authorization`: `following` depends on the token"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "The page is unchanged since the given ETag"),
        (status = 404, description = "No such user", body = ErrorDoc),
    ))]
async fn followers(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    viewer: MaybeAuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    list(
        &state,
        &id,
        Side::Followers,
        q.as_deref(),
        &viewer,
        &headers,
    )
    .await
}

/// Whom a user follows, newest follow first.
///
/// Public; as `GET /api/users/{id}/followers`.
#[utoipa::path(get, path = "/api/users/{id}/following", operation_id = "listFollowing", tag = "follows",
    params(
        ("id" = i64, Path, description = "User id", minimum = 1),
        ("limit" = Option<u32>, Query, description = "Page size", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page (empty: the first page)", pattern = "^([A-Za-z0-9_-]{23})?$"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy of this page"),
    ),
    responses(
        (status = 200, description = "A page of followed users", body = UserPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "The page's version (a hash of its content)"),
                ("Vary" = String, description = "`Authorization`: `following` depends on the token"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "The page is unchanged since the given ETag"),
        (status = 404, description = "No such user", body = ErrorDoc),
    ))]
async fn following(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    viewer: MaybeAuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    list(
        &state,
        &id,
        Side::Following,
        q.as_deref(),
        &viewer,
        &headers,
    )
    .await
}

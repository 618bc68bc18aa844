//! `/api/posts`: the public list, one post, and writes by the author (or an admin).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conditional::{etag, not_modified, public_revalidated, require_match, revalidated_json};
use super::json::JsonObject;
use super::openapi::ErrorDoc;
use super::pagination::{finish_page, ListKind, ListParams};
use super::{parse_id, AppState};
use crate::auth::AuthUser;
use crate::domain::{PostBody, PostTitle, Timestamp};
use crate::error::{changed, ApiError};
use crate::store::{Post, PostChanges};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, replace, update, remove))
}

/// A new post, or the whole of a replaced one. `author_id`, `id` and timestamps are ignored.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for the OpenAPI document; parsed by JsonObject"
)]
struct PostInput {
    /// Not blank.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    title: String,
    /// Up to 64 KiB; absent means empty.
    #[schema(max_length = 65536)]
    body: Option<String>,
}

/// Changes to a post; absent fields are left as they are.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the body for the OpenAPI document; parsed by JsonObject"
)]
struct PostPatch {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    title: Option<String>,
    #[schema(max_length = 65536)]
    body: Option<String>,
}

const NOT_FOUND: &str = "Post not found";

/// A page of posts, newest first.
#[derive(Serialize, ToSchema)]
struct PostPage<'a> {
    posts: &'a [Post],
    next_cursor: Option<String>,
}

fn title(raw: &str) -> Result<String, ApiError> {
    PostTitle::parse(raw)
        .map(PostTitle::into_inner)
        .map_err(|p| ApiError::invalid_field("title", p))
}

fn body_text(raw: &str) -> Result<String, ApiError> {
    PostBody::parse(raw)
        .map(PostBody::into_inner)
        .map_err(|p| ApiError::invalid_field("body", p))
}

/// A post as JSON with its ETag.
fn post_response(status: StatusCode, post: &Post) -> Response {
    let mut res = (status, Json(post)).into_response();
    res.headers_mut().insert(header::ETAG, etag(post.version));
    res
}

/// List posts, newest first.
///
/// Public. A page holds `limit` posts; while there are more, `next_cursor` (sent back as `cursor`)
/// and the `Link` header lead to the next. Each page has an `ETag`: a client refreshing a page it
/// holds sends it in `If-None-Match` and gets 304 while the page is unchanged.
#[utoipa::path(get, path = "/api/posts", operation_id = "listPosts", tag = "posts",
    params(
        ("limit" = Option<u32>, Query, description = "Page size", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page (empty: the first page)", pattern = "^([A-Za-z0-9_-]{23})?$"),
        ("author" = Option<i64>, Query, description = "Only this user's posts", minimum = 1),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy of this page"),
    ),
    responses(
        (status = 200, description = "A page of posts", body = PostPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "The page's version (a hash of its content)"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "The page is unchanged since the given ETag",
            headers(("ETag" = String, description = "The page's version"),
                ("Cache-Control" = String, description = "`no-cache`"))),
    ))]
async fn list(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = ListParams::parse(ListKind::Posts, q.as_deref())?;
    let rows = state
        .store
        .list_posts(params.author, params.probe())
        .await?;
    let (posts, next_cursor, link) = finish_page(ListKind::Posts, &params, rows, |p| p.id);
    let page = PostPage {
        posts: &posts,
        next_cursor,
    };
    let mut res = revalidated_json(&headers, &page)?;
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LINK, link);
    }
    Ok(res)
}

/// Write a post as the token's user.
///
/// `title` is required, `body` may be left out (empty). The answer is the post with its `ETag`
/// and `Location`. Send an `Idempotency-Key` to make a retry after a lost answer safe.
#[utoipa::path(post, path = "/api/posts", operation_id = "createPost", tag = "posts",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key with the same request within 24 hours gets the first answer again (with `Idempotent-Replayed: true`) instead of doing it twice. 1-255 visible ASCII characters, chosen by the client.", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body(content = PostInput, content_type = "application/json",
        example = json!({"title": "Hello, postbase", "body": "My first post."})),
    responses(
        (status = 201, description = "The new post", body = Post,
            headers(("Location" = String, description = "`/api/posts/{id}`"), ("ETag" = String, description = "The post's version"))),
        (status = 409, description = "A request with this `Idempotency-Key` is still in progress", body = ErrorDoc),
        (status = 422, description = "This `Idempotency-Key` was used with a different request", body = ErrorDoc),
    ))]
async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let title = match body.opt_string("title")? {
        None => return Err(ApiError::required("title", "Title required")),
        Some(t) => title(t)?,
    };
    let text = body_text(body.opt_string("body")?.unwrap_or(""))?;
    let post = state
        .store
        .create_post(caller.user.id, title, text, Timestamp::now())
        .await?;
    let mut res = post_response(StatusCode::CREATED, &post);
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/posts/{}", post.id))
            .expect("an id path is a valid header"),
    );
    Ok(res)
}

async fn load(state: &AppState, raw_id: &str) -> Result<Post, ApiError> {
    let id = parse_id(raw_id, NOT_FOUND)?;
    state
        .store
        .post(id)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))
}

/// One post.
///
/// Public. The `ETag` is the post's version: send it in `If-None-Match` to get 304 while the post
/// is unchanged, or in `If-Match` of a write so that it applies only to the version you read.
#[utoipa::path(get, path = "/api/posts/{id}", operation_id = "getPost", tag = "posts",
    params(
        ("id" = i64, Path, description = "Post id", minimum = 1),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response"),
    ),
    responses(
        (status = 200, description = "The post", body = Post,
            headers(("ETag" = String, description = "The post's version"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "Unchanged since the given ETag",
            headers(("ETag" = String, description = "The post's version"),
                ("Cache-Control" = String, description = "`no-cache`"))),
    ))]
async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let post = load(&state, &id).await?;
    let mut res = if not_modified(&headers, &etag(post.version)) {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(header::ETAG, etag(post.version));
        res
    } else {
        post_response(StatusCode::OK, &post)
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, public_revalidated());
    Ok(res)
}

/// Loads the post and checks the caller may change it.
async fn load_for_change(
    state: &AppState,
    raw_id: &str,
    caller: &AuthUser,
) -> Result<Post, ApiError> {
    let post = load(state, raw_id).await?;
    if !caller.may_act_for(post.author_id) {
        return Err(ApiError::Forbidden("Only the author may change this post"));
    }
    Ok(post)
}

/// Applies valid changes if the client's copy is current. `If-Match` is checked after the body:
/// a request that is wrong in itself gets 400 whatever version it names.
async fn apply(
    state: &AppState,
    post: &Post,
    changes: PostChanges,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let expected = require_match(headers, post.version)?;
    let change = state
        .store
        .update_post(post.id, changes, expected, Timestamp::now())
        .await?;
    let updated = changed(change, NOT_FOUND)?;
    Ok(post_response(StatusCode::OK, &updated))
}

/// Replace a post's title and body (author or admin).
///
/// A `body` left out becomes empty. With `If-Match`, the post is replaced only if it is still at
/// that version (412 otherwise), so an edit made offline cannot overwrite a newer one.
#[utoipa::path(put, path = "/api/posts/{id}", operation_id = "replacePost", tag = "posts",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Post id", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Apply only if the post is still at this ETag"),
    ),
    request_body(content = PostInput, content_type = "application/json",
        example = json!({"title": "Hello again", "body": "Rewritten from the start."})),
    responses(
        (status = 200, description = "The replaced post", body = Post,
            headers(("ETag" = String, description = "The post's new version"))),
        (status = 403, description = "Not the author and not an admin", body = ErrorDoc),
    ))]
async fn replace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let post = load_for_change(&state, &id, &caller).await?;
    let changes = PostChanges {
        title: Some(match body.opt_string("title")? {
            None => return Err(ApiError::required("title", "Title required")),
            Some(t) => title(t)?,
        }),
        body: Some(body_text(body.opt_string("body")?.unwrap_or(""))?),
    };
    apply(&state, &post, changes, &headers).await
}

/// Change some of a post's fields (author or admin).
///
/// Only the fields sent change. `If-Match` works as for `PUT`.
#[utoipa::path(patch, path = "/api/posts/{id}", operation_id = "updatePost", tag = "posts",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Post id", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Apply only if the post is still at this ETag"),
    ),
    request_body(content = PostPatch, content_type = "application/json",
        example = json!({"title": "Hello, edited"})),
    responses(
        (status = 200, description = "The changed post", body = Post,
            headers(("ETag" = String, description = "The post's new version"))),
        (status = 403, description = "Not the author and not an admin", body = ErrorDoc),
    ))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let post = load_for_change(&state, &id, &caller).await?;
    let changes = PostChanges {
        title: body.opt_string("title")?.map(title).transpose()?,
        body: body.opt_string("body")?.map(body_text).transpose()?,
    };
    apply(&state, &post, changes, &headers).await
}

/// Delete a post (author or admin).
///
/// With `If-Match`, only if the post is still at that version (412 otherwise).
#[utoipa::path(delete, path = "/api/posts/{id}", operation_id = "deletePost", tag = "posts",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Post id", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Delete only if the post is still at this ETag"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the author and not an admin", body = ErrorDoc),
    ))]
async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let post = load_for_change(&state, &id, &caller).await?;
    let expected = require_match(&headers, post.version)?;
    changed(state.store.delete_post(post.id, expected).await?, NOT_FOUND)?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/api/posts`: the public list, one post, and writes by the author (or an admin).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AuthUser, MaybeAuthUser};
use super::body::Body;
use super::conditional::{change, not_modified, public_revalidated, Versioned};
use super::openapi::ErrorDoc;
use super::pagination::{finish_page, page_response, ListKind, ListParams};
use super::post_json::PostPage;
pub(super) use super::post_json::{post_response, varies_by_token, PostJson};
use super::{created, parse_id, AppState};
use crate::domain::{PostBody, PostTitle, Summary, Tags, Timestamp};
use crate::error::ApiError;
use crate::store::{NewPost, Post, PostChanges};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, replace, update, remove))
}

pub(super) const NOT_FOUND: &str = "Post not found";

/// A new post, or the whole of a replaced one. `author_id`, `id`, counts and timestamps are ignored.
#[derive(Deserialize, ToSchema)]
struct PostInput {
    #[schema(inline)]
    title: PostTitle,
    /// Absent means empty.
    #[schema(inline)]
    body: Option<PostBody>,
    /// Absent means empty.
    #[schema(inline)]
    summary: Option<Summary>,
    /// Absent means none.
    #[schema(inline)]
    tags: Option<Tags>,
}

/// Changes to a post; absent fields are left as they are.
#[derive(Deserialize, ToSchema)]
struct PostPatch {
    #[schema(inline)]
    title: Option<PostTitle>,
    #[schema(inline)]
    body: Option<PostBody>,
    #[schema(inline)]
    summary: Option<Summary>,
    #[schema(inline)]
    tags: Option<Tags>,
}

/// List posts, newest first.
///
/// Public. A page holds `limit` posts; while there are more, `next_cursor` (sent back as `cursor`)
/// and the `Link` header lead to the next. The filters combine; `q` is full-text search. Each page
/// has an `ETag`: a client refreshing a page it holds sends it in `If-None-Match` and gets 304
/// while the page is unchanged.
#[utoipa::path(get, path = "/api/posts", operation_id = "listPosts", tag = "posts",
    params(
        ("limit" = Option<u32>, Query, description = "Page size", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page (empty: the first page)", pattern = "^([A-Za-z0-9_-]{23})?$"),
        ("author" = Option<i64>, Query, description = "Only this user's posts", minimum = 1),
        ("tag" = Option<String>, Query, description = "Only posts with this tag (any case)", pattern = "^[A-Za-z0-9_-]{1,32}$"),
        ("liked_by" = Option<i64>, Query, description = "Only posts this user likes", minimum = 1),
        ("q" = Option<String>, Query, description = "Only posts whose title or body has all these words (letters and digits; case and accents ignored; the last word may be the start of one). At most 10 words.", max_length = 200),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy of this page"),
    ),
    responses(
        (status = 200, description = "A page of posts", body = PostPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "The page's version (a hash of its content)"),
                ("Vary" = String, description = "`Authorization`: `liked` depends on the token"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "The page is unchanged since the given ETag",
            headers(("ETag" = String, description = "The page's version"),
                ("Cache-Control" = String, description = "`no-cache`"))),
    ))]
async fn list(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    viewer: MaybeAuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = ListParams::parse(ListKind::Posts, q.as_deref())?;
    let rows = state
        .store
        .list_posts(params.filter.clone(), viewer.id(), params.probe())
        .await?;
    let (posts, next_cursor, link) =
        finish_page(ListKind::Posts, "/api/posts", &params, rows, |p| p.id);
    let page = PostPage {
        posts: posts.iter().map(PostJson::from).collect(),
        next_cursor,
    };
    Ok(varies_by_token(page_response(&headers, &page, link)?))
}

/// Write a post as the token's user.
///
/// `title` is required; `body` and `tags` may be left out. The answer is the post with its `ETag`
/// and `Location`. Send an `Idempotency-Key` to make a retry after a lost answer safe.
#[utoipa::path(post, path = "/api/posts", operation_id = "createPost", tag = "posts",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key with the same request within 24 hours gets the first answer again (with `Idempotent-Replayed: true`) instead of doing it twice. 1-255 visible ASCII characters, chosen by the client.", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body(content = PostInput, content_type = "application/json",
        example = json!({"title": "Hello, postbase", "body": "My first post.", "tags": ["intro"]})),
    responses(
        (status = 201, description = "The new post", body = PostJson,
            headers(("Location" = String, description = "`/api/posts/{id}`"), ("ETag" = String, description = "The post's version"))),
        (status = 409, description = "A request with this `Idempotency-Key` is still in progress", body = ErrorDoc),
        (status = 422, description = "This `Idempotency-Key` was used with a different request", body = ErrorDoc),
    ))]
async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    Body(input): Body<PostInput>,
) -> Result<Response, ApiError> {
    let new = NewPost {
        author_id: caller.user.id,
        title: input.title.into_inner(),
        body: input.body.unwrap_or_default().into_inner(),
        summary: input.summary.unwrap_or_default().into_inner(),
        tags: input.tags.unwrap_or_default().into_inner(),
    };
    let post = state.store.create_post(new, Timestamp::now()).await?;
    // As anyone reading it sees it (no `liked`), so that its ETag is theirs.
    let post = Post {
        liked: None,
        ..post
    };
    Ok(created(
        post_response(StatusCode::CREATED, &post),
        &format!("/api/posts/{}", post.id),
    ))
}

/// The post, as `viewer` sees it, or 404.
pub(super) async fn load(
    state: &AppState,
    raw_id: &str,
    viewer: Option<i64>,
) -> Result<Post, ApiError> {
    let id = parse_id(raw_id, NOT_FOUND)?;
    state
        .store
        .post(id, viewer)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))
}

/// One post.
///
/// Public. The `ETag` changes with the post, its counts and (with a token) the caller's like:
/// send it in `If-None-Match` to get 304 while nothing you see has changed, or in `If-Match` of a
/// write so that it applies only to the version you read.
#[utoipa::path(get, path = "/api/posts/{id}", operation_id = "getPost", tag = "posts",
    params(
        ("id" = i64, Path, description = "Post id", minimum = 1),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response"),
    ),
    responses(
        (status = 200, description = "The post", body = PostJson,
            headers(("ETag" = String, description = "The post's version"),
                ("Vary" = String, description = "`Authorization`: `liked` depends on the token"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "Unchanged since the given ETag",
            headers(("ETag" = String, description = "The post's version"),
                ("Cache-Control" = String, description = "`no-cache`"))),
    ))]
async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    viewer: MaybeAuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let post = load(&state, &id, viewer.id()).await?;
    let mut res = if not_modified(&headers, &post.etag()) {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(header::ETAG, post.etag());
        varies_by_token(res)
    } else {
        post_response(StatusCode::OK, &post)
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, public_revalidated());
    Ok(res)
}

fn may_change(caller: &AuthUser) -> impl FnOnce(&Post) -> Result<(), ApiError> + '_ {
    |post| {
        if caller.may_act_for(post.author_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("Only the author may change this post"))
        }
    }
}

/// Applies valid changes through the one conditional-write path.
async fn apply(
    state: &AppState,
    raw_id: &str,
    caller: &AuthUser,
    headers: &HeaderMap,
    changes: PostChanges,
) -> Result<Response, ApiError> {
    // Answered as anyone reading it sees it (no `liked`), so that its ETag is theirs.
    let loaded = load(state, raw_id, None).await;
    let updated = change(
        headers,
        loaded,
        may_change(caller),
        NOT_FOUND,
        |post, expected| {
            state
                .store
                .update_post(post.id, changes, expected, None, Timestamp::now())
        },
    )
    .await?;
    Ok(post_response(StatusCode::OK, &updated))
}

/// Replace a post's title, body and tags (author or admin).
///
/// A `body` left out becomes empty, and `tags` left out none. With `If-Match`, the post is
/// replaced only if it is still at that version (412 otherwise), so an edit made offline cannot
/// overwrite a newer one.
#[utoipa::path(put, path = "/api/posts/{id}", operation_id = "replacePost", tag = "posts",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Post id", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Apply only if the post is still at this ETag"),
    ),
    request_body(content = PostInput, content_type = "application/json",
        example = json!({"title": "Hello again", "body": "Rewritten from the start."})),
    responses(
        (status = 200, description = "The replaced post", body = PostJson,
            headers(("ETag" = String, description = "The post's new version"))),
        (status = 403, description = "Not the author and not an admin", body = ErrorDoc),
    ))]
async fn replace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
    Body(input): Body<PostInput>,
) -> Result<Response, ApiError> {
    let changes = PostChanges {
        title: Some(input.title.into_inner()),
        body: Some(input.body.unwrap_or_default().into_inner()),
        summary: Some(input.summary.unwrap_or_default().into_inner()),
        tags: Some(input.tags.unwrap_or_default().into_inner()),
    };
    apply(&state, &id, &caller, &headers, changes).await
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
        (status = 200, description = "The changed post", body = PostJson,
            headers(("ETag" = String, description = "The post's new version"))),
        (status = 403, description = "Not the author and not an admin", body = ErrorDoc),
    ))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
    Body(patch): Body<PostPatch>,
) -> Result<Response, ApiError> {
    let changes = PostChanges {
        title: patch.title.map(PostTitle::into_inner),
        body: patch.body.map(PostBody::into_inner),
        summary: patch.summary.map(Summary::into_inner),
        tags: patch.tags.map(Tags::into_inner),
    };
    apply(&state, &id, &caller, &headers, changes).await
}

/// Delete a post (author or admin), with its comments and likes.
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
    let loaded = load(&state, &id, None).await;
    change(
        &headers,
        loaded,
        may_change(&caller),
        NOT_FOUND,
        |post, expected| state.store.delete_post(post.id, expected),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Comments: `/api/posts/{id}/comments` (the list, oldest first, and new ones) and
//! `/api/comments/{id}` (one comment, changed by its author, deleted by its author or the post's).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AuthUser;
use super::body::Body;
use super::conditional::{change, not_modified, public_revalidated, Versioned};
use super::openapi::ErrorDoc;
use super::pagination::{finish_page, page_response, ListKind, ListParams};
use super::posts::NOT_FOUND as POST_NOT_FOUND;
use super::{created, parse_id, AppState};
use crate::domain::{CommentBody, Timestamp};
use crate::error::ApiError;
use crate::store::Comment;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

const NOT_FOUND: &str = "Comment not found";

/// A new comment, or a comment's new text.
#[derive(Deserialize, ToSchema)]
struct CommentInput {
    #[schema(inline)]
    body: CommentBody,
}

/// A comment as shown.
#[derive(Serialize, ToSchema)]
#[schema(as = Comment)]
#[derive(Debug)]
pub(crate) struct CommentJson<'a> {
    id: i64,
    post_id: i64,
    author_id: i64,
    body: &'a str,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
}

impl<'a> From<&'a Comment> for CommentJson<'a> {
    fn from(c: &'a Comment) -> Self {
        Self {
            id: c.id,
            post_id: c.post_id,
            author_id: c.author_id,
            body: &c.body,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl Versioned for Comment {
    fn version(&self) -> i64 {
        self.version
    }
}

/// A page of comments, oldest first.
#[derive(Serialize, ToSchema)]
struct CommentPage<'a> {
    comments: Vec<CommentJson<'a>>,
    next_cursor: Option<String>,
}

fn comment_response(status: StatusCode, comment: &Comment) -> Response {
    let mut res = (status, Json(CommentJson::from(comment))).into_response();
    res.headers_mut().insert(header::ETAG, comment.etag());
    res
}

/// List a post's comments, oldest first.
///
/// Public, paged like every list (`limit`, `cursor`, `next_cursor`, `Link`, `ETag`).
#[utoipa::path(get, path = "/api/posts/{id}/comments", operation_id = "listComments", tag = "comments",
    params(
        ("id" = i64, Path, description = "Post id", minimum = 1),
        ("limit" = Option<u32>, Query, description = "Page size", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page (empty: the first page)", pattern = "^([A-Za-z0-9_-]{23})?$"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy of this page"),
    ),
    responses(
        (status = 200, description = "A page of comments", body = CommentPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "The page's version (a hash of its content)"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "The page is unchanged since the given ETag"),
        (status = 404, description = "No such post", body = ErrorDoc),
    ))]
async fn list(
    State(state): State<AppState>,
    Path(post_id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let post_id = parse_id(&post_id, POST_NOT_FOUND)?;
    let params = ListParams::parse(ListKind::Comments, q.as_deref())?;
    let rows = state
        .store
        .list_comments(post_id, params.probe())
        .await?
        .ok_or(ApiError::NotFound(POST_NOT_FOUND))?;
    let path = format!("/api/posts/{post_id}/comments");
    let (comments, next_cursor, link) =
        finish_page(ListKind::Comments, &path, &params, rows, |c| c.id);
    let page = CommentPage {
        comments: comments.iter().map(CommentJson::from).collect(),
        next_cursor,
    };
    page_response(&headers, &page, link)
}

/// Comment on a post as the token's user.
///
/// `body` is 1-10,000 characters, not blank. The answer is the comment with its `ETag` and
/// `Location`; the post's `comment_count` goes up in the same transaction.
#[utoipa::path(post, path = "/api/posts/{id}/comments", operation_id = "createComment", tag = "comments",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Post id", minimum = 1)),
    request_body(content = CommentInput, content_type = "application/json",
        example = json!({"body": "Nice post!"})),
    responses(
        (status = 201, description = "The new comment", body = CommentJson,
            headers(("Location" = String, description = "`/api/comments/{id}`"), ("ETag" = String, description = "The comment's version"))),
        (status = 404, description = "No such post", body = ErrorDoc),
    ))]
async fn create(
    State(state): State<AppState>,
    Path(post_id): Path<String>,
    caller: AuthUser,
    Body(input): Body<CommentInput>,
) -> Result<Response, ApiError> {
    let post_id = parse_id(&post_id, POST_NOT_FOUND)?;
    let comment = state
        .store
        .create_comment(
            post_id,
            caller.user.id,
            input.body.into_inner(),
            Timestamp::now(),
        )
        .await?
        .ok_or(ApiError::NotFound(POST_NOT_FOUND))?;
    Ok(created(
        comment_response(StatusCode::CREATED, &comment),
        &format!("/api/comments/{}", comment.id),
    ))
}

async fn load(state: &AppState, raw_id: &str) -> Result<Comment, ApiError> {
    let id = parse_id(raw_id, NOT_FOUND)?;
    state
        .store
        .comment(id)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))
}

/// One comment.
///
/// Public. Its `ETag` is its version: send it in `If-None-Match` to get 304 while the comment is
/// unchanged, or in `If-Match` of an edit so that it applies only to the version you read.
#[utoipa::path(get, path = "/api/comments/{id}", operation_id = "getComment", tag = "comments",
    params(
        ("id" = i64, Path, description = "Comment id", minimum = 1),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response"),
    ),
    responses(
        (status = 200, description = "The comment", body = CommentJson,
            headers(("ETag" = String, description = "The comment's version"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "Unchanged since the given ETag"),
    ))]
async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let comment = load(&state, &id).await?;
    let mut res = if not_modified(&headers, &comment.etag()) {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(header::ETAG, comment.etag());
        res
    } else {
        comment_response(StatusCode::OK, &comment)
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, public_revalidated());
    Ok(res)
}

/// Change a comment's text (its author or an admin).
///
/// With `If-Match`, only if the comment is still at that version (412 otherwise).
#[utoipa::path(patch, path = "/api/comments/{id}", operation_id = "updateComment", tag = "comments",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Comment id", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Apply only if the comment is still at this ETag"),
    ),
    request_body(content = CommentInput, content_type = "application/json",
        example = json!({"body": "Nice post! (edited)"})),
    responses(
        (status = 200, description = "The changed comment", body = CommentJson,
            headers(("ETag" = String, description = "The comment's new version"))),
        (status = 403, description = "Not the author and not an admin", body = ErrorDoc),
    ))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
    Body(input): Body<CommentInput>,
) -> Result<Response, ApiError> {
    let authorise = |c: &Comment| {
        if caller.may_act_for(c.author_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "Only the author may change this comment",
            ))
        }
    };
    let loaded = load(&state, &id).await;
    let updated = change(&headers, loaded, authorise, NOT_FOUND, |c, expected| {
        let body = input.body.into_inner();
        state
            .store
            .update_comment(c.id, body, expected, Timestamp::now())
    })
    .await?;
    Ok(comment_response(StatusCode::OK, &updated))
}

/// Delete a comment (its author, the post's author, or an admin).
///
/// With `If-Match`, only if the comment is still at that version (412 otherwise).
#[utoipa::path(delete, path = "/api/comments/{id}", operation_id = "deleteComment", tag = "comments",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Comment id", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Delete only if the comment is still at this ETag"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither the comment's author, nor the post's, nor an admin", body = ErrorDoc),
    ))]
async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let comment = load(&state, &id).await?;
    // The post's author moderates its comments; the post is read only when that is the question.
    let post_author = if caller.may_act_for(comment.author_id) {
        None
    } else {
        state
            .store
            .post(comment.post_id, None)
            .await?
            .map(|p| p.author_id)
    };
    let authorise = |c: &Comment| {
        if caller.may_act_for(c.author_id) || post_author == Some(caller.user.id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "Only the comment's author or the post's author may delete this comment",
            ))
        }
    };
    change(
        &headers,
        Ok(comment),
        authorise,
        NOT_FOUND,
        |c, expected| state.store.delete_comment(c.id, expected),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

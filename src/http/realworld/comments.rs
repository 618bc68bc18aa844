//! `/articles/{slug}/comments`: an article's comments, writing and deleting them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::views::{self, CommentEnvelope, MultipleComments};
use super::{answer, users_by_id, Caller, Json, MaybeCaller};
use crate::domain::{CommentBody, Timestamp};
use crate::error::{ApiError, Conduit};
use crate::store::{Change, PageQuery};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(remove))
        .merge(super::tags_router())
}

const ARTICLE_NOT_FOUND: &str = "Article not found";
const NOT_FOUND: &str = "Comment not found";
/// The specification lists an article's comments in one answer; this many at most, oldest first.
const MAX_COMMENTS: usize = 1_000;

fn post_id(slug: &str) -> Result<i64, Conduit> {
    Ok(views::slug_id(slug).ok_or(ApiError::NotFound(ARTICLE_NOT_FOUND))?)
}

/// An article's comments, oldest first (at most 1,000).
#[utoipa::path(get, path = "/realworld/api/articles/{slug}/comments", operation_id = "GetArticleComments", tag = "realworld",
    security((), ("token" = [])),
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The comments", body = MultipleComments),
        (status = 404, description = "No such article"),
    ))]
async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    caller: MaybeCaller,
) -> Result<Response, Conduit> {
    let id = post_id(&slug)?;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = PageQuery { after, limit: 100 };
        let rows = state
            .store
            .list_comments(id, page)
            .await?
            .ok_or(ApiError::NotFound(ARTICLE_NOT_FOUND))?;
        let full = rows.len() == 100;
        after = rows.last().map(|c| c.id);
        all.extend(rows);
        if !full || all.len() >= MAX_COMMENTS {
            break;
        }
    }
    all.truncate(MAX_COMMENTS);
    let authors = users_by_id(
        &state,
        all.iter().map(|c| c.author_id).collect(),
        caller.id(),
    )
    .await?;
    let comments = all
        .iter()
        .filter_map(|c| Some(views::comment(c, authors.get(&c.author_id)?)))
        .collect();
    Ok(answer(StatusCode::OK, MultipleComments { comments }))
}

#[derive(Deserialize, ToSchema)]
struct NewCommentBody {
    #[schema(inline)]
    body: CommentBody,
}

#[derive(Deserialize, ToSchema)]
struct NewComment {
    comment: NewCommentBody,
}

/// Comment on an article.
#[utoipa::path(post, path = "/realworld/api/articles/{slug}/comments", operation_id = "CreateArticleComment", tag = "realworld",
    security(("token" = [])),
    params(("slug" = String, Path, description = "The article's slug")),
    request_body = NewComment,
    responses(
        (status = 200, description = "The new comment", body = CommentEnvelope),
        (status = 401, description = "No valid token"),
        (status = 404, description = "No such article"),
        (status = 422, description = "A missing or invalid body"),
    ))]
async fn create(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    caller: Caller,
    Json(NewComment { comment }): Json<NewComment>,
) -> Result<Response, Conduit> {
    let id = post_id(&slug)?;
    let body = comment.body.into_inner();
    let created = state
        .store
        .create_comment(id, caller.user.id, body, Timestamp::now())
        .await?
        .ok_or(ApiError::NotFound(ARTICLE_NOT_FOUND))?;
    Ok(answer(
        StatusCode::OK,
        views::comment_envelope(&created, &caller.user),
    ))
}

/// Delete a comment: its author, the article's author, or an admin.
#[utoipa::path(delete, path = "/realworld/api/articles/{slug}/comments/{id}", operation_id = "DeleteArticleComment", tag = "realworld",
    security(("token" = [])),
    params(
        ("slug" = String, Path, description = "The article's slug"),
        ("id" = i64, Path, description = "The comment's id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token"),
        (status = 403, description = "Not the comment's or the article's author"),
        (status = 404, description = "No such comment on this article"),
    ))]
async fn remove(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    caller: Caller,
) -> Result<StatusCode, Conduit> {
    let post = post_id(&slug)?;
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound(NOT_FOUND))?;
    let comment = state
        .store
        .comment(id)
        .await?
        .filter(|c| c.post_id == post)
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    let post_author = state.store.post(post, None).await?.map(|p| p.author_id);
    if !(caller.may_act_for(comment.author_id) || post_author == Some(caller.user.id)) {
        return Err(Conduit(ApiError::Forbidden(
            "You may only delete your own comments or those on your articles",
        )));
    }
    match state.store.delete_comment(id, None).await? {
        Change::Done(()) => Ok(StatusCode::NO_CONTENT),
        _ => Err(Conduit(ApiError::NotFound(NOT_FOUND))),
    }
}

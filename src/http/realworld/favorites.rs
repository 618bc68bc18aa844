//! `/articles/{slug}/favorite`: favorites are likes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::articles::{by_slug, NOT_FOUND};
use super::views::{self, ArticleEnvelope};
use super::{answer, Caller};
use crate::domain::Timestamp;
use crate::error::{ApiError, Conduit};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(favorite, unfavorite))
}

/// Favorite an article (a like; idempotent).
#[utoipa::path(post, path = "/realworld/api/articles/{slug}/favorite", operation_id = "CreateArticleFavorite", tag = "realworld",
    security(("token" = [])),
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article, favorited", body = ArticleEnvelope),
        (status = 401, description = "No valid token"),
        (status = 404, description = "No such article"),
    ))]
async fn favorite(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    caller: Caller,
) -> Result<Response, Conduit> {
    set_favorite(&state, &slug, &caller, true).await
}

/// Take a favorite back (idempotent).
#[utoipa::path(delete, path = "/realworld/api/articles/{slug}/favorite", operation_id = "DeleteArticleFavorite", tag = "realworld",
    security(("token" = [])),
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article, not favorited", body = ArticleEnvelope),
        (status = 401, description = "No valid token"),
        (status = 404, description = "No such article"),
    ))]
async fn unfavorite(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    caller: Caller,
) -> Result<Response, Conduit> {
    set_favorite(&state, &slug, &caller, false).await
}

/// Likes (`favorite`) or unlikes the article a slug names, and answers it as the caller sees it.
async fn set_favorite(
    state: &AppState,
    slug: &str,
    caller: &Caller,
    favorite: bool,
) -> Result<Response, Conduit> {
    let me = caller.user.id;
    let (post, author) = by_slug(state, slug, Some(me)).await?;
    let post = if favorite {
        state.store.like(post.id, me, Timestamp::now()).await?
    } else {
        state.store.unlike(post.id, me).await?
    };
    let post = post.ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok(answer(
        StatusCode::OK,
        views::article_envelope(&post, &author),
    ))
}

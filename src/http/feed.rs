//! `GET /api/feed`: the posts of the people the caller follows, newest first. The feed is fanned
//! out on write (see the store's `feed` table), so a page is one range scan of the caller's rows.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AuthUser;
use super::openapi::ErrorDoc;
use super::pagination::{finish_page, page_response, ListKind, ListParams};
use super::post_json::{varies_by_token, PostJson, PostPage};
use super::AppState;
use crate::error::ApiError;
use crate::store::PostFilter;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(feed))
}

/// The caller's feed: posts by the people they follow, newest first.
///
/// Paged like `GET /api/posts` (`limit`, `cursor`, `Link`, `ETag`). A new follow brings all of
/// that user's posts in; an unfollow takes them out. Private to the caller: `Cache-Control:
/// private, no-cache`.
#[utoipa::path(get, path = "/api/feed", operation_id = "getFeed", tag = "follows",
    security(("bearer" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "Page size", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page (empty: the first page)", pattern = "^([A-Za-z0-9_-]{23})?$"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy of this page"),
    ),
    responses(
        (status = 200, description = "A page of the feed", body = PostPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "The page's version (a hash of its content)"),
                ("Vary" = String, description = "`Authorization`"),
                ("Cache-Control" = String, description = "`private, no-cache`"))),
        (status = 304, description = "The page is unchanged since the given ETag"),
        (status = 401, description = "No valid token", body = ErrorDoc),
    ))]
async fn feed(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    caller: AuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = ListParams::parse(ListKind::Feed, q.as_deref())?;
    let me = caller.user.id;
    let filter = PostFilter {
        feed_of: Some(me),
        ..PostFilter::default()
    };
    let rows = state
        .store
        .list_posts(filter, Some(me), params.probe())
        .await?;
    let (posts, next_cursor, link) =
        finish_page(ListKind::Feed, "/api/feed", &params, rows, |p| p.id);
    let page = PostPage {
        posts: posts.iter().map(PostJson::from).collect(),
        next_cursor,
    };
    let mut res = page_response(&headers, &page, link)?;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(varies_by_token(res))
}

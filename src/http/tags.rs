//! `GET /api/tags`: the most used tags.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::conditional::revalidated_json;
use super::AppState;
use crate::error::ApiError;

/// How many tags the list shows.
const POPULAR: u32 = 100;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(popular))
}

/// A tag and how many posts carry it.
#[derive(Serialize, ToSchema)]
#[schema(as = Tag)]
struct TagJson {
    name: String,
    count: i64,
}

/// The 100 most used tags.
///
/// Public. Most used first, ties by name; a tag no post carries any more is not listed. The counts
/// are kept as posts change, so this costs one index scan however many posts there are.
#[utoipa::path(get, path = "/api/tags", operation_id = "listTags", tag = "posts",
    params(("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy of this list")),
    responses(
        (status = 200, description = "The most used tags", body = [TagJson],
            headers(("ETag" = String, description = "The list's version (a hash of its content)"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "Unchanged since the given ETag"),
    ))]
async fn popular(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let tags: Vec<TagJson> = state
        .store
        .popular_tags(POPULAR)
        .await?
        .into_iter()
        .map(|t| TagJson {
            name: t.name,
            count: t.count,
        })
        .collect();
    revalidated_json(&headers, &tags)
}

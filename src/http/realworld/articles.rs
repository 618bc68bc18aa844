//! `/articles`: lists paged by `limit`/`offset` with a total from the counts kept in each write,
//! the feed, one article by slug, writing, and favorites (likes).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::views::{self, ArticleEnvelope, MultipleArticles};
use super::{answer, users_by_id, Caller, Json, MaybeCaller};
use crate::domain::{PostBody, PostTitle, Summary, Tags, Timestamp};
use crate::error::{ApiError, Conduit};
use crate::store::{Change, NewPost, Post, PostChanges, PostFilter, User};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(feed))
        .routes(routes!(show, update, remove))
        .merge(super::favorites::router())
}

pub(super) const NOT_FOUND: &str = "Article not found";
const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

/// `limit`, `offset` and the filters of a list.
struct ListQuery {
    limit: u32,
    offset: u32,
    tag: Option<String>,
    author: Option<String>,
    favorited: Option<String>,
}

fn number(name: &str, value: &str, max: u32) -> Result<u32, Conduit> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            Conduit(ApiError::invalid_field(
                name,
                &format!("must be an integer from 0 to {max}"),
            ))
        })
}

impl ListQuery {
    fn parse(query: Option<&str>) -> Result<Self, Conduit> {
        let mut q = Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
            tag: None,
            author: None,
            favorited: None,
        };
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match &*key {
                "limit" => q.limit = number("limit", &value, MAX_LIMIT)?,
                "offset" => q.offset = number("offset", &value, u32::MAX)?,
                "tag" => q.tag = Some(value.into_owned()),
                "author" => q.author = Some(value.into_owned()),
                "favorited" => q.favorited = Some(value.into_owned()),
                _ => {}
            }
        }
        Ok(q)
    }
}

/// Posts as articles, each with its author as `viewer` sees them (one read per author).
async fn articles(
    state: &AppState,
    posts: Vec<Post>,
    viewer: Option<i64>,
) -> Result<Vec<views::Article>, Conduit> {
    let authors = users_by_id(state, posts.iter().map(|p| p.author_id).collect(), viewer).await?;
    let out = posts
        .iter()
        .filter_map(|p| Some(views::article(p, authors.get(&p.author_id)?, false)))
        .collect();
    Ok(out)
}

/// A page of `filter` and its total.
async fn page(
    state: &AppState,
    filter: PostFilter,
    viewer: Option<i64>,
    limit: u32,
    offset: u32,
) -> Result<Response, Conduit> {
    let total = state.store.count_posts(filter.clone()).await?;
    let posts = if limit == 0 {
        Vec::new()
    } else {
        state
            .store
            .list_posts_at(filter, viewer, limit, offset)
            .await?
    };
    let articles = articles(state, posts, viewer).await?;
    let body = MultipleArticles {
        articles,
        articles_count: total,
    };
    Ok(answer(StatusCode::OK, body))
}

/// Articles, newest first; `tag`, `author` and `favorited` (usernames) filter them.
#[utoipa::path(get, path = "/realworld/api/articles", operation_id = "GetArticles", tag = "realworld",
    security((), ("token" = [])),
    params(
        ("tag" = Option<String>, Query, description = "Only articles with this tag"),
        ("author" = Option<String>, Query, description = "Only articles by this username"),
        ("favorited" = Option<String>, Query, description = "Only articles this username favorited"),
        ("limit" = Option<u32>, Query, description = "Articles per page (default 20, at most 100)", maximum = 100),
        ("offset" = Option<u32>, Query, description = "Articles to skip (default 0)"),
    ),
    responses(
        (status = 200, description = "A page and the total", body = MultipleArticles),
        (status = 422, description = "A bad limit or offset"),
    ))]
async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    caller: MaybeCaller,
) -> Result<Response, Conduit> {
    let q = ListQuery::parse(query.as_deref())?;
    let viewer = caller.id();
    let empty = MultipleArticles {
        articles: Vec::new(),
        articles_count: 0,
    };
    let mut filter = PostFilter::default();
    if let Some(tag) = &q.tag {
        match Tags::parse_one(tag) {
            Ok(tag) => filter.tag = Some(tag),
            // No post can carry a tag that is not one.
            Err(_) => return Ok(answer(StatusCode::OK, empty)),
        }
    }
    for (name, slot) in [
        (&q.author, &mut filter.author),
        (&q.favorited, &mut filter.liked_by),
    ] {
        if let Some(name) = name {
            match state.store.user_by_username(name, None).await? {
                Some(user) => *slot = Some(user.id),
                None => return Ok(answer(StatusCode::OK, empty)),
            }
        }
    }
    page(&state, filter, viewer, q.limit, q.offset).await
}

/// Articles by the people the caller follows, newest first.
#[utoipa::path(get, path = "/realworld/api/articles/feed", operation_id = "GetArticlesFeed", tag = "realworld",
    security(("token" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "Articles per page (default 20, at most 100)", maximum = 100),
        ("offset" = Option<u32>, Query, description = "Articles to skip (default 0)"),
    ),
    responses(
        (status = 200, description = "A page of the feed and its total", body = MultipleArticles),
        (status = 401, description = "No valid token"),
    ))]
async fn feed(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    caller: Caller,
) -> Result<Response, Conduit> {
    let q = ListQuery::parse(query.as_deref())?;
    let me = caller.user.id;
    let filter = PostFilter {
        feed_of: Some(me),
        ..PostFilter::default()
    };
    page(&state, filter, Some(me), q.limit, q.offset).await
}

/// The post a slug names (by the id it ends with), as `viewer` sees it, and its author.
pub(super) async fn by_slug(
    state: &AppState,
    slug: &str,
    viewer: Option<i64>,
) -> Result<(Post, User), Conduit> {
    let id = views::slug_id(slug).ok_or(ApiError::NotFound(NOT_FOUND))?;
    let post = state
        .store
        .post(id, viewer)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    let author = state
        .store
        .user(post.author_id, viewer)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))?;
    Ok((post, author))
}

/// One article.
#[utoipa::path(get, path = "/realworld/api/articles/{slug}", operation_id = "GetArticle", tag = "realworld",
    security((), ("token" = [])),
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article", body = ArticleEnvelope),
        (status = 404, description = "No such article"),
    ))]
async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    caller: MaybeCaller,
) -> Result<Response, Conduit> {
    let (post, author) = by_slug(&state, &slug, caller.id()).await?;
    Ok(answer(
        StatusCode::OK,
        views::article_envelope(&post, &author),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct NewArticleBody {
    #[schema(inline)]
    title: PostTitle,
    #[schema(inline)]
    description: Option<Summary>,
    #[schema(inline)]
    body: PostBody,
    #[schema(inline)]
    tag_list: Option<Tags>,
}

#[derive(Deserialize, ToSchema)]
struct NewArticle {
    article: NewArticleBody,
}

/// Write an article: a post with a summary.
#[utoipa::path(post, path = "/realworld/api/articles", operation_id = "CreateArticle", tag = "realworld",
    security(("token" = [])),
    request_body = NewArticle,
    responses(
        (status = 201, description = "The new article", body = ArticleEnvelope),
        (status = 401, description = "No valid token"),
        (status = 422, description = "A missing or invalid field"),
    ))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(NewArticle { article: a }): Json<NewArticle>,
) -> Result<Response, Conduit> {
    let new = NewPost {
        author_id: caller.user.id,
        title: a.title.into_inner(),
        body: a.body.into_inner(),
        summary: a.description.unwrap_or_default().into_inner(),
        tags: a.tag_list.unwrap_or_default().into_inner(),
    };
    let post = state.store.create_post(new, Timestamp::now()).await?;
    let post = Post {
        liked: Some(false),
        ..post
    };
    Ok(answer(
        StatusCode::CREATED,
        views::article_envelope(&post, &caller.user),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ArticleChanges {
    #[schema(inline)]
    title: Option<PostTitle>,
    #[schema(inline)]
    description: Option<Summary>,
    #[schema(inline)]
    body: Option<PostBody>,
    #[schema(inline)]
    tag_list: Option<Tags>,
}

#[derive(Deserialize, ToSchema)]
struct UpdateArticle {
    article: ArticleChanges,
}

/// Change an article (its author, or an admin). A new title makes a new slug; the old one
/// still finds the article.
#[utoipa::path(put, path = "/realworld/api/articles/{slug}", operation_id = "UpdateArticle", tag = "realworld",
    security(("token" = [])),
    params(("slug" = String, Path, description = "The article's slug")),
    request_body = UpdateArticle,
    responses(
        (status = 200, description = "The changed article", body = ArticleEnvelope),
        (status = 401, description = "No valid token"),
        (status = 403, description = "Not the author"),
        (status = 404, description = "No such article"),
        (status = 422, description = "An invalid field"),
    ))]
async fn update(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    caller: Caller,
    Json(UpdateArticle { article: a }): Json<UpdateArticle>,
) -> Result<Response, Conduit> {
    let me = caller.user.id;
    let (post, author) = by_slug(&state, &slug, Some(me)).await?;
    if !caller.may_act_for(post.author_id) {
        return Err(Conduit(ApiError::Forbidden(
            "You may only change your own articles",
        )));
    }
    let changes = PostChanges {
        title: a.title.map(PostTitle::into_inner),
        body: a.body.map(PostBody::into_inner),
        summary: a.description.map(Summary::into_inner),
        tags: a.tag_list.map(Tags::into_inner),
    };
    let now = Timestamp::now();
    match state
        .store
        .update_post(post.id, changes, None, Some(me), now)
        .await?
    {
        Change::Done(post) => Ok(answer(
            StatusCode::OK,
            views::article_envelope(&post, &author),
        )),
        _ => Err(Conduit(ApiError::NotFound(NOT_FOUND))),
    }
}

/// Delete an article (its author, or an admin), with its comments and favorites.
#[utoipa::path(delete, path = "/realworld/api/articles/{slug}", operation_id = "DeleteArticle", tag = "realworld",
    security(("token" = [])),
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token"),
        (status = 403, description = "Not the author"),
        (status = 404, description = "No such article"),
    ))]
async fn remove(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    caller: Caller,
) -> Result<StatusCode, Conduit> {
    let (post, _) = by_slug(&state, &slug, None).await?;
    if !caller.may_act_for(post.author_id) {
        return Err(Conduit(ApiError::Forbidden(
            "You may only delete your own articles",
        )));
    }
    match state.store.delete_post(post.id, None).await? {
        Change::Done(()) => Ok(StatusCode::NO_CONTENT),
        _ => Err(Conduit(ApiError::NotFound(NOT_FOUND))),
    }
}

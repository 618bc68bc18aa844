//! How a post is shown: its JSON, its ETag, and the headers of an answer whose body depends on
//! the caller's token.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::conditional::Versioned;
use crate::domain::Timestamp;
use crate::store::Post;

/// A post as shown.
#[derive(Serialize, ToSchema)]
#[schema(as = Post)]
#[derive(Debug)]
pub struct PostJson<'a> {
    id: i64,
    title: &'a str,
    body: &'a str,
    /// 0-300 characters; `""` when there is none.
    summary: &'a str,
    author_id: i64,
    /// Lower case, in the order given.
    tags: &'a [String],
    like_count: i64,
    comment_count: i64,
    /// Whether the caller likes the post: present only when the request carries a valid token.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool, required = false)]
    liked: Option<bool>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
}

impl<'a> From<&'a Post> for PostJson<'a> {
    fn from(p: &'a Post) -> Self {
        Self {
            id: p.id,
            title: &p.title,
            body: &p.body,
            summary: &p.summary,
            author_id: p.author_id,
            tags: &p.tags,
            like_count: p.like_count,
            comment_count: p.comment_count,
            liked: p.liked,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl Versioned for Post {
    fn version(&self) -> i64 {
        self.version
    }

    /// The version, the counts and the viewer's like: everything a viewer sees change.
    fn etag(&self) -> HeaderValue {
        let liked = match self.liked {
            None => "",
            Some(true) => "-l",
            Some(false) => "-n",
        };
        let tag = format!(
            "\"{}-{}-{}{liked}\"",
            self.version, self.like_count, self.comment_count
        );
        HeaderValue::from_str(&tag).expect("digits and dashes are a valid header")
    }
}

/// A page of posts, newest first.
#[derive(Serialize, ToSchema)]
pub(super) struct PostPage<'a> {
    pub(super) posts: Vec<PostJson<'a>>,
    pub(super) next_cursor: Option<String>,
}

/// Marks a response whose body depends on the caller's token (`liked`), so that no cache serves
/// one caller's copy to another.
pub(super) fn varies_by_token(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Authorization"));
    res
}

/// A post as JSON with its ETag.
pub(super) fn post_response(status: StatusCode, post: &Post) -> Response {
    let mut res = (status, Json(PostJson::from(post))).into_response();
    res.headers_mut().insert(header::ETAG, post.etag());
    varies_by_token(res)
}

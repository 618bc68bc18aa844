//! Keyset pagination: `?limit=` (1-100, default 20) and an opaque `?cursor=` naming the last id of
//! the previous page. A page is one index range scan whatever the table's size: no OFFSET, no COUNT.
//!
//! A cursor is `base64url(kind, id, tag)` where the tag is a truncated SHA-256 of the rest: not a
//! secret (a hand-made cursor only chooses where a public list starts) but enough that an edited or
//! truncated cursor is refused with 400 rather than silently starting somewhere else.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::domain::{SearchQuery, Tags};
use crate::error::ApiError;
use crate::store::{PageQuery, PostFilter};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// Which list a cursor belongs to, so a users cursor cannot be replayed on posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Posts,
    Users,
    Comments,
    /// A feed: posts, but only ever of the caller's own feed.
    Feed,
    /// A user's followers or following: the cursor is a follow's id.
    Follows,
}

impl ListKind {
    fn byte(self) -> u8 {
        match self {
            Self::Posts => b'p',
            Self::Users => b'u',
            Self::Comments => b'c',
            Self::Feed => b'd',
            Self::Follows => b'f',
        }
    }
}

fn tag(kind: u8, id: u64) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(b"postbase-cursor-v1");
    h.update([kind]);
    h.update(id.to_be_bytes());
    let digest = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

pub fn encode_cursor(kind: ListKind, id: i64) -> String {
    let id = id as u64;
    let mut raw = [0u8; 17];
    raw[0] = kind.byte();
    raw[1..9].copy_from_slice(&id.to_be_bytes());
    raw[9..].copy_from_slice(&tag(kind.byte(), id));
    URL_SAFE_NO_PAD.encode(raw)
}

pub fn decode_cursor(kind: ListKind, cursor: &str) -> Option<i64> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let raw: [u8; 17] = raw.try_into().ok()?;
    if raw[0] != kind.byte() {
        return None;
    }
    let id = u64::from_be_bytes(raw[1..9].try_into().ok()?);
    if raw[9..] != tag(kind.byte(), id) {
        return None;
    }
    i64::try_from(id).ok().filter(|id| *id > 0)
}

/// The query string of a list request, parsed and checked.
#[derive(Debug)]
pub struct ListParams {
    pub page: PageQuery,
    /// The filters (posts only).
    pub filter: PostFilter,
}

/// A `?name=` user id.
fn user_id(name: &str, value: &str) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid_field(name, "must be a user id"))
}

impl ListParams {
    pub fn parse(kind: ListKind, query: Option<&str>) -> Result<Self, ApiError> {
        let mut limit = DEFAULT_LIMIT;
        let mut after = None;
        let mut filter = PostFilter::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match &*key {
                "limit" => {
                    limit = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            ApiError::invalid_field("limit", "must be an integer from 1 to 100")
                        })?;
                }
                // An empty cursor is the first page, as if none were given.
                "cursor" if value.is_empty() => after = None,
                "cursor" => {
                    after = Some(decode_cursor(kind, &value).ok_or_else(|| {
                        ApiError::BadRequest {
                            message: "Invalid cursor".into(),
                            code: "invalid_cursor",
                            fields: [(
                                "cursor".to_owned(),
                                "is not a cursor this list gave out".to_owned(),
                            )]
                            .into(),
                        }
                    })?);
                }
                "author" if kind == ListKind::Posts => {
                    filter.author = Some(user_id("author", &value)?)
                }
                "liked_by" if kind == ListKind::Posts => {
                    filter.liked_by = Some(user_id("liked_by", &value)?);
                }
                "tag" if kind == ListKind::Posts => {
                    let tag =
                        Tags::parse_one(&value).map_err(|p| ApiError::invalid_field("tag", p))?;
                    filter.tag = Some(tag);
                }
                "q" if kind == ListKind::Posts => {
                    filter.search =
                        SearchQuery::parse(&value).map_err(|p| ApiError::invalid_field("q", p))?;
                }
                _ => {}
            }
        }
        Ok(Self {
            page: PageQuery { after, limit },
            filter,
        })
    }

    /// Asks the store for one row more than the page holds: its presence says whether there is a next page.
    pub fn probe(&self) -> PageQuery {
        PageQuery {
            after: self.page.after,
            limit: self.page.limit + 1,
        }
    }
}

/// Splits the probe's rows into the page and, if there is more, the cursor to it and its `Link`
/// (to `path`, with the same filters).
pub fn finish_page<T>(
    kind: ListKind,
    path: &str,
    params: &ListParams,
    mut rows: Vec<T>,
    id_of: impl Fn(&T) -> i64,
) -> (Vec<T>, Option<String>, Option<String>) {
    if rows.len() <= params.page.limit as usize {
        return (rows, None, None);
    }
    rows.truncate(params.page.limit as usize);
    let last = rows.last().map(&id_of).unwrap_or_default();
    let cursor = encode_cursor(kind, last);
    let mut filters = String::new();
    let f = &params.filter;
    if let Some(a) = f.author {
        filters.push_str(&format!("&author={a}"));
    }
    if let Some(t) = &f.tag {
        // A tag is `[a-z0-9_-]`: nothing to escape.
        filters.push_str(&format!("&tag={t}"));
    }
    if let Some(l) = f.liked_by {
        filters.push_str(&format!("&liked_by={l}"));
    }
    if let Some(q) = &f.search {
        let words: String = form_urlencoded::byte_serialize(q.to_query_text().as_bytes()).collect();
        filters.push_str(&format!("&q={words}"));
    }
    let link = format!(
        "<{path}?limit={}&cursor={cursor}{filters}>; rel=\"next\"",
        params.page.limit
    );
    (rows, Some(cursor), Some(link))
}

/// A page as JSON: with its content ETag (304 when `If-None-Match` names it) and its `Link`.
pub fn page_response(
    headers: &HeaderMap,
    page: &impl serde::Serialize,
    link: Option<String>,
) -> Result<Response, ApiError> {
    let mut res = super::conditional::revalidated_json(headers, page)?;
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LINK, link);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_decodes_to_the_id_it_encodes() {
        for id in [1, 42, i64::MAX] {
            let c = encode_cursor(ListKind::Posts, id);
            assert_eq!(decode_cursor(ListKind::Posts, &c), Some(id));
        }
    }

    #[test]
    fn a_cursor_of_another_list_is_refused() {
        let c = encode_cursor(ListKind::Users, 7);
        assert_eq!(decode_cursor(ListKind::Posts, &c), None);
    }

    #[test]
    fn an_edited_truncated_or_garbage_cursor_is_refused() {
        let c = encode_cursor(ListKind::Posts, 1000);
        let mut edited: Vec<u8> = c.clone().into_bytes();
        edited[5] = if edited[5] == b'A' { b'B' } else { b'A' };
        for bad in [
            String::from_utf8(edited).unwrap(),
            c[..c.len() - 1].to_string(),
            format!("{c}A"),
            "!!!".into(),
            "1000".into(),
        ] {
            assert_eq!(decode_cursor(ListKind::Posts, &bad), None, "{bad:?}");
        }
    }

    #[test]
    fn limits_outside_1_to_100_and_non_numbers_are_refused() {
        for bad in [
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=abc",
            "limit=",
            "limit=1.5",
        ] {
            assert!(
                ListParams::parse(ListKind::Posts, Some(bad)).is_err(),
                "{bad}"
            );
        }
        let p = ListParams::parse(ListKind::Posts, Some("limit=100")).unwrap();
        assert_eq!(p.page.limit, 100);
        let p = ListParams::parse(ListKind::Posts, None).unwrap();
        assert_eq!(p.page.limit, 20);
    }
}

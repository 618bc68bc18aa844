//! ETags, conditional requests and how `GET` answers may be cached. A resource's ETag starts with
//! its version, which every write of its own fields bumps (a post's goes on with its counts and
//! the viewer's like, which change what is shown without a write to the post); a list page's is a
//! hash of its bytes. `If-None-Match` saves a download; `If-Match` stops an offline client
//! overwriting a newer edit, and compares the version only, so that a like or a comment arriving
//! meanwhile does not make an edit fail.
//!
//! Every conditional write goes through [`change`]: load, authorise, `If-Match`, write.

use std::future::Future;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{changed, ApiError};
use crate::store::Change;

/// Something with a version: every write of it bumps the version, which its ETag starts with.
pub(super) trait Versioned {
    fn version(&self) -> i64;

    /// Its ETag: by default the version alone.
    fn etag(&self) -> HeaderValue {
        etag(self.version())
    }
}

/// The one path of a conditional write: `load` the resource (404), `authorise` the caller on it
/// (403), check `If-Match` against its version (412), then `write` with the version the write must
/// still find, so that a racing writer between the check and the write is caught too (412), and
/// a resource deleted meanwhile is a 404 (`not_found`).
pub(super) async fn change<R, T, E, Fut>(
    headers: &HeaderMap,
    loaded: Result<R, ApiError>,
    authorise: impl FnOnce(&R) -> Result<(), ApiError>,
    not_found: &'static str,
    write: impl FnOnce(R, Option<i64>) -> Fut,
) -> Result<T, ApiError>
where
    R: Versioned,
    E: Into<ApiError>,
    Fut: Future<Output = Result<Change<T>, E>>,
{
    let resource = loaded?;
    authorise(&resource)?;
    let expected = require_match(headers, resource.version())?;
    changed(
        write(resource, expected).await.map_err(Into::into)?,
        not_found,
    )
}

pub(super) fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a quoted integer is a valid header")
}

/// The ETag of a representation made on each request (a page of a list): a hash of its bytes, so
/// it changes exactly when the page does, whichever row, cursor or link changed it.
pub(super) fn content_etag(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("quoted hex is a valid header")
}

/// `Cache-Control` of what anyone may see: a cache may keep it, but must revalidate it (with its
/// ETag) before each reuse, since any write may change it.
pub(super) fn public_revalidated() -> HeaderValue {
    HeaderValue::from_static("no-cache")
}

/// `Cache-Control` of what shows an email or a token: no cache may keep it at all.
pub(super) fn never_stored() -> HeaderValue {
    HeaderValue::from_static("no-store")
}

/// True when `If-None-Match` names `current` (or is `*`): the client's copy is fresh (304).
/// ETags are compared as opaque strings, weakly (RFC 9110 13.1.2: `W/` is ignored).
pub(super) fn not_modified(headers: &HeaderMap, current: &HeaderValue) -> bool {
    let current = current.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == current)
}

/// A JSON answer to a `GET` of something public and made on each request, with a content ETag and
/// `no-cache`, or a bodiless 304 when `If-None-Match` names that ETag already.
pub(super) fn revalidated_json(
    headers: &HeaderMap,
    body: &impl Serialize,
) -> Result<Response, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let tag = content_etag(&bytes);
    let mut res = if not_modified(headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
    };
    res.headers_mut().insert(header::ETAG, tag);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, public_revalidated());
    Ok(res)
}

/// The versions listed in a conditional header; `None` inside means `*`.
fn listed_versions(value: &HeaderValue) -> Vec<Option<i64>> {
    let Ok(s) = value.to_str() else {
        return Vec::new();
    };
    s.split(',')
        .map(str::trim)
        .filter_map(|tag| {
            if tag == "*" {
                return Some(None);
            }
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            // The version is the tag's first part (see the module docs).
            let tag = tag.strip_prefix('"')?.strip_suffix('"')?;
            tag.split('-').next()?.parse::<i64>().ok().map(Some)
        })
        .collect()
}

/// Checks `If-Match` against the current version. Returns the version the write must still find
/// (so that a racing writer between this check and the write is caught too), `None` when the
/// client sent no `If-Match`, or 412 when the client's copy is stale.
pub(super) fn require_match(headers: &HeaderMap, current: i64) -> Result<Option<i64>, ApiError> {
    let mut values = headers.get_all(header::IF_MATCH).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    if values
        .flat_map(listed_versions)
        .any(|v| v.is_none_or(|v| v == current))
    {
        Ok(Some(current))
    } else {
        Err(ApiError::PreconditionFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn if_none_match_matches_the_current_tag_a_list_weak_tags_and_star() {
        let current = etag(3);
        let fresh = |value: &str| not_modified(&headers(header::IF_NONE_MATCH, value), &current);
        assert!(fresh("\"3\""));
        assert!(fresh("\"1\", \"3\""));
        assert!(fresh("W/\"3\""));
        assert!(fresh("*"));
        assert!(!fresh("\"2\""));
        assert!(!fresh("3"));
        assert!(!fresh(""));
        assert!(!not_modified(&HeaderMap::new(), &current));
    }

    #[test]
    fn a_content_etag_is_a_quoted_hash_that_changes_with_the_bytes() {
        let tag = content_etag(b"{\"posts\":[]}");
        assert_eq!(tag.len(), 34);
        assert!(tag.to_str().unwrap().starts_with('"') && tag.to_str().unwrap().ends_with('"'));
        assert_eq!(tag, content_etag(b"{\"posts\":[]}"));
        assert_ne!(tag, content_etag(b"{\"posts\":[1]}"));
    }

    #[test]
    fn if_match_passes_when_current_and_fails_when_stale_or_garbage() {
        assert_eq!(require_match(&HeaderMap::new(), 3).unwrap(), None);
        assert_eq!(
            require_match(&headers(header::IF_MATCH, "\"3\""), 3).unwrap(),
            Some(3)
        );
        assert_eq!(
            require_match(&headers(header::IF_MATCH, "*"), 3).unwrap(),
            Some(3)
        );
        assert!(require_match(&headers(header::IF_MATCH, "\"2\""), 3).is_err());
        assert!(require_match(&headers(header::IF_MATCH, "garbage"), 3).is_err());
        assert_eq!(
            require_match(&headers(header::IF_MATCH, "\"3-10-2-l\""), 3).unwrap(),
            Some(3)
        );
        assert!(require_match(&headers(header::IF_MATCH, "\"2-10-2\""), 3).is_err());
    }
}

//! ETags and conditional requests. A resource's ETag is its version, which every write bumps;
//! `If-None-Match` saves a download, `If-Match` stops an offline client overwriting a newer edit.

use axum::http::{header, HeaderMap, HeaderValue};

use crate::error::ApiError;

pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a quoted integer is a valid header")
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
            tag.strip_prefix('"')?
                .strip_suffix('"')?
                .parse::<i64>()
                .ok()
                .map(Some)
        })
        .collect()
}

/// True when `If-None-Match` names the current version: the client's copy is fresh (304).
pub fn not_modified(headers: &HeaderMap, version: i64) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .flat_map(listed_versions)
        .any(|v| v.is_none_or(|v| v == version))
}

/// Checks `If-Match` against the current version. Returns the version the write must still find
/// (so that a racing writer between this check and the write is caught too), `None` when the
/// client sent no `If-Match`, or 412 when the client's copy is stale.
pub fn require_match(headers: &HeaderMap, current: i64) -> Result<Option<i64>, ApiError> {
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
        assert!(not_modified(&headers(header::IF_NONE_MATCH, "\"3\""), 3));
        assert!(not_modified(
            &headers(header::IF_NONE_MATCH, "\"1\", \"3\""),
            3
        ));
        assert!(not_modified(&headers(header::IF_NONE_MATCH, "W/\"3\""), 3));
        assert!(not_modified(&headers(header::IF_NONE_MATCH, "*"), 3));
        assert!(!not_modified(&headers(header::IF_NONE_MATCH, "\"2\""), 3));
        assert!(!not_modified(&HeaderMap::new(), 3));
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
    }
}

//! The JSON body extractor. Its rejections are `ApiError`s, so a bad body gets the same error shape
//! as everything else: 415 without a JSON content type, 413 over the limit, 400 for malformed JSON,
//! for a body that is not an object, and (through the field readers) for a field of the wrong type.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value};

use super::AppState;
use crate::error::ApiError;

/// A request body that is a JSON object. An empty body is an empty object: the original answered
/// "Username required" (not "malformed") to a sign-up with no body at all.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

/// Deepest nesting of arrays and objects accepted in a body. No request of this API needs more
/// than 2; the limit keeps a hostile body from costing stack and time.
pub const MAX_DEPTH: usize = 32;

/// `application/json` or a JSON-based `application/*+json` type, with no charset but UTF-8
/// (JSON is UTF-8; a body declared in another charset would be misread, so it is refused).
pub fn is_json_content_type(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let json = mime == "application/json"
        || mime
            .strip_prefix("application/")
            .and_then(|m| m.strip_suffix("+json"))
            .is_some_and(|sub| !sub.is_empty() && !sub.contains('/'));
    json && parts.all(|param| {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        !name.trim().eq_ignore_ascii_case("charset")
            || matches!(
                value.trim().trim_matches('"').to_ascii_lowercase().as_str(),
                "utf-8" | "utf8"
            )
    })
}

/// How deeply arrays and objects nest in `bytes`, counted without parsing (strings skipped), so
/// that an over-deep body is refused before the parser recurses into it.
fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The body-parsing rules, apart from reading the body: an empty body is an empty object; a
/// non-empty one must be declared JSON (415), nest at most `MAX_DEPTH` deep, parse, and be an object.
pub fn parse_body(declared_json: bool, bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if !declared_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    if nesting_depth(bytes) > MAX_DEPTH {
        return Err(ApiError::bad_request(
            "too_deep",
            format!("JSON nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "invalid_body",
            "Request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(
            "malformed_json",
            format!("Malformed JSON: {e}"),
        )),
    }
}

impl FromRequest<AppState> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.limits.max_body_bytes;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| is_json_content_type(v.as_bytes()));
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError::PayloadTooLarge(limit))?;
        parse_body(json_type, &bytes).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert_eq!(nesting_depth(br#"{"a": [1, {"b": 2}]}"#), 3);
        assert_eq!(nesting_depth(br#"{"a": "[[[[{{{{\"]]"}"#), 1);
        assert_eq!(nesting_depth(b"[]]]][[[]"), 3);
        assert!(parse_body(true, "[".repeat(33).as_bytes()).is_err());
        assert!(parse_body(
            true,
            format!("{{\"a\":{}{}}}", "[".repeat(31), "]".repeat(31)).as_bytes()
        )
        .is_ok());
    }

    #[test]
    fn empty_bodies_are_empty_objects_and_others_must_be_declared_json_objects() {
        assert!(parse_body(false, b"  \n").unwrap().is_empty());
        assert!(matches!(
            parse_body(false, b"{}"),
            Err(ApiError::UnsupportedMediaType)
        ));
        assert!(parse_body(true, b"[]").is_err());
        assert!(parse_body(true, b"{").is_err());
        assert_eq!(parse_body(true, br#"{"a":1}"#).unwrap()["a"], 1);
    }

    #[test]
    fn json_content_types_are_recognised_with_parameters_and_suffixes() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
            "application/json; charset=\"UTF-8\"",
        ] {
            assert!(is_json_content_type(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "json",
            "+json",
            "",
            "application/json; charset=latin1",
            "application/json; charset=utf-16",
            "text/x+json",
            "image/svg+json",
            "application/+json",
        ] {
            assert!(!is_json_content_type(bad.as_bytes()), "{bad}");
        }
    }
}

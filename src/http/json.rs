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
pub struct JsonObject(pub Map<String, Value>);

fn is_json_content_type(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    let mime = value.split(';').next().unwrap_or("").trim();
    mime.eq_ignore_ascii_case("application/json")
        || (mime.len() > 5 && mime[..mime.len() - 5].contains('/') && mime.ends_with("+json"))
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
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(Map::new()));
        }
        if !json_type {
            return Err(ApiError::UnsupportedMediaType);
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
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
}

/// What a field of a JSON object holds, when the caller only accepts a string.
pub enum StrField<'a> {
    Absent,
    Null,
    Value(&'a str),
}

impl JsonObject {
    /// Reads a string field; any other JSON type is a 400 naming the field.
    pub fn string(&self, name: &str) -> Result<StrField<'_>, ApiError> {
        match self.0.get(name) {
            None => Ok(StrField::Absent),
            Some(Value::Null) => Ok(StrField::Null),
            Some(Value::String(s)) => Ok(StrField::Value(s)),
            Some(_) => Err(ApiError::invalid_field(name, "must be a string")),
        }
    }

    /// A string field where `null` means the same as absent.
    pub fn opt_string(&self, name: &str) -> Result<Option<&str>, ApiError> {
        Ok(match self.string(name)? {
            StrField::Value(s) => Some(s),
            StrField::Absent | StrField::Null => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_json_content_type;

    #[test]
    fn json_content_types_are_recognised_with_parameters_and_suffixes() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json_content_type(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "json",
            "+json",
            "",
        ] {
            assert!(!is_json_content_type(bad.as_bytes()), "{bad}");
        }
    }
}

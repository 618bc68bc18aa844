//! Typed request bodies: one type per body is both its parser and its OpenAPI schema. Its fields
//! are domain types (`PostTitle`, `Tags`, ...), so a body that parses is a body that is valid, and
//! each limit is written once, in the domain type (`schema.rs` publishes it from there).
//!
//! The body is read by [`JsonObject`]'s rules first (content type, size, depth, an object), then
//! deserialized; a field that is missing, null where a value is required, of the wrong type or
//! invalid is a 400 naming the field, in postbase's error shape. Unknown fields are ignored.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::json::JsonObject;
use super::AppState;
use crate::error::ApiError;

/// A request body of type `T`.
#[derive(Debug)]
pub(super) struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let JsonObject(map) = JsonObject::from_request(req, state).await?;
        from_object(map).map(Body)
    }
}

/// A parsed JSON object as a `T`, or the 400 naming the field that is missing or wrong.
pub fn from_object<T: DeserializeOwned>(map: Map<String, Value>) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(Value::Object(map))
        .map_err(|e| rejection(&e.path().to_string(), &e.inner().to_string()))
}

/// The 400 for a deserialization error `message` at `path` (`title`, `tags[2]`).
fn rejection(path: &str, message: &str) -> ApiError {
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        return ApiError::required_field(field);
    }
    let field = path.split(['.', '[']).next().unwrap_or(path);
    if message.starts_with("invalid type: null") {
        return ApiError::required_field(field);
    }
    let problem = match message.split_once(", expected ") {
        Some((kind, expected)) if kind.starts_with("invalid type") => {
            let expected = match expected {
                "a sequence" => "an array",
                "a string" | "a boolean" => expected,
                _ => "a number",
            };
            format!("must be {expected}")
        }
        _ => message.to_owned(),
    };
    ApiError::invalid_field(field, &problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: ApiError) -> (String, Vec<(String, String)>) {
        match e {
            ApiError::BadRequest {
                message, fields, ..
            } => (message, fields.into_iter().collect()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_and_null_fields_are_required_and_others_name_their_field_and_problem() {
        let (message, f) = fields(rejection(".", "missing field `title`"));
        assert_eq!(message, "Title required");
        assert_eq!(f, [("title".into(), "is required".into())]);
        assert_eq!(
            fields(rejection("body", "invalid type: null, expected a string")).0,
            "Body required"
        );
        let (message, f) = fields(rejection(
            "tags[2]",
            "invalid type: integer `5`, expected a string",
        ));
        assert_eq!(message, "Invalid tags: must be a string");
        assert_eq!(f, [("tags".into(), "must be a string".into())]);
        assert_eq!(
            fields(rejection(
                "tags",
                "invalid type: string \"x\", expected a sequence"
            ))
            .0,
            "Invalid tags: must be an array"
        );
        assert_eq!(
            fields(rejection("title", "must be at most 200 characters")).0,
            "Invalid title: must be at most 200 characters"
        );
    }
}

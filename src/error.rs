//! `ApiError` is the only place a status code for an error is chosen. Every error leaves as
//! `{"error": "<sentence>", "code": "<stable code>", "fields"?: {...}}` with `application/json`.
//! Server faults are logged here and reach the client without their detail.

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request the client must change: missing or invalid fields, bad query parameters.
    #[error("{message}")]
    BadRequest {
        message: String,
        code: &'static str,
        fields: BTreeMap<String, String>,
    },
    #[error("Invalid token")]
    InvalidToken,
    #[error("Invalid username or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("Method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(&'static str),
    /// Well-formed, but not something this request may do (an idempotency key reused for
    /// another request).
    #[error("{0}")]
    Unprocessable(&'static str),
    #[error("Precondition failed: the resource has changed since you read it")]
    PreconditionFailed,
    #[error("Request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("Request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// A limit was hit; the client may try again after `retry_after`.
    #[error("{message}")]
    TooManyRequests {
        message: &'static str,
        retry_after: std::time::Duration,
    },
    #[error("Service unavailable, try again shortly")]
    Unavailable(String),
    /// A queue of this process is full; refused at once so that nothing waits without bound.
    #[error("{message}")]
    Overloaded {
        message: &'static str,
        retry_after: std::time::Duration,
    },
    #[error("Internal server error")]
    Internal(String),
}

/// Marks a response as a server fault, so the request-id middleware can add the id to its body.
#[derive(Clone, Copy, Debug)]
pub struct ServerFault;

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a BTreeMap<String, String>>,
}

impl ApiError {
    /// A validation failure of one field: `{"error": message, "fields": {field: problem}}`.
    pub fn invalid_field(field: &str, problem: &str) -> Self {
        Self::BadRequest {
            message: format!("Invalid {field}: {problem}"),
            code: "validation_failed",
            fields: BTreeMap::from([(field.to_owned(), problem.to_owned())]),
        }
    }

    /// A required field that is absent: keeps the original's sentences ("Username required").
    pub fn required(field: &str, message: &'static str) -> Self {
        Self::BadRequest {
            message: message.to_owned(),
            code: "field_required",
            fields: BTreeMap::from([(field.to_owned(), "is required".to_owned())]),
        }
    }

    /// As [`ApiError::required`], the sentence made from the field's name ("Title required").
    pub fn required_field(field: &str) -> Self {
        let mut chars = field.chars();
        let named: String = chars
            .next()
            .map(|c| c.to_ascii_uppercase())
            .into_iter()
            .chain(chars)
            .collect();
        Self::BadRequest {
            message: format!("{} required", named.replace('_', " ")),
            code: "field_required",
            fields: BTreeMap::from([(field.to_owned(), "is required".to_owned())]),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            code,
            fields: BTreeMap::new(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::InvalidToken | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::InvalidToken => "invalid_token",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::Unprocessable(_) => "unprocessable",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Unavailable(_) => "unavailable",
            Self::Overloaded { .. } => "overloaded",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UsernameTaken => Self::Conflict("Username already taken"),
            StoreError::EmailTaken => Self::Conflict("Email already taken"),
            StoreError::Unavailable(detail) | StoreError::SchemaGone(detail) => {
                Self::Unavailable(detail)
            }
            // The caller's account was deleted while this request ran: its token is gone too.
            StoreError::ReferenceGone => Self::InvalidToken,
            StoreError::PostGone => Self::NotFound("Post not found"),
            StoreError::Overloaded => Self::Overloaded {
                message: "Too many writes waiting; try again shortly",
                retry_after: std::time::Duration::from_secs(1),
            },
            StoreError::Other(detail) => Self::Internal(detail),
        }
    }
}

/// The outcome of a conditional write as the client sees it: the value, 404 with `not_found`, or 412.
pub fn changed<T>(change: crate::store::Change<T>, not_found: &'static str) -> Result<T, ApiError> {
    match change {
        crate::store::Change::Done(value) => Ok(value),
        crate::store::Change::NotFound => Err(ApiError::NotFound(not_found)),
        crate::store::Change::VersionMismatch => Err(ApiError::PreconditionFailed),
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(format!("{e:#}"))
    }
}

/// Builds the JSON error response every error path shares (also used for the framework's own
/// 404/405 and for panics, which never pass through `ApiError`'s callers).
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    json_error(status, code, message, None)
}

fn json_error(
    status: StatusCode,
    code: &str,
    message: &str,
    fields: Option<&BTreeMap<String, String>>,
) -> Response {
    let body = serde_json::to_vec(&ErrorBody {
        error: message,
        code,
        fields,
    })
    .unwrap_or_else(|_| br#"{"error":"Internal server error"}"#.to_vec());
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if status.is_server_error() {
        res.extensions_mut().insert(ServerFault);
    }
    res
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            Self::Unavailable(detail) => tracing::warn!(error = %detail, "database unavailable"),
            _ => {}
        }
        let fields = match &self {
            Self::BadRequest { fields, .. } if !fields.is_empty() => Some(fields),
            _ => None,
        };
        let mut res = json_error(self.status(), self.code(), &self.to_string(), fields);
        if let Self::TooManyRequests { retry_after, .. } | Self::Overloaded { retry_after, .. } =
            self
        {
            // Whole seconds, rounded up: never tell a client to come back before it may.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        res
    }
}

/// An error as the RealWorld (Conduit) API shows it: `{"errors": {"body": ["<sentence>"]}}`,
/// validation failures as 422 (that API's status for them); every other status as above.
#[derive(Debug)]
pub struct Conduit(pub ApiError);

impl<E: Into<ApiError>> From<E> for Conduit {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for Conduit {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            ApiError::BadRequest { .. } | ApiError::Unprocessable(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            other => other.status(),
        };
        let message = self.0.to_string();
        // Headers (Retry-After, the request id on faults) as postbase's own answer has them.
        let mut res = self.0.into_response();
        *res.status_mut() = status;
        let body = serde_json::json!({"errors": {"body": [message]}});
        *res.body_mut() = axum::body::Body::from(body.to_string());
        res.headers_mut().remove(header::CONTENT_LENGTH);
        res
    }
}

//! The OpenAPI schemas of the domain types, built from their own constants: a limit is written
//! once, in the domain type, and the published document takes it from there. Body types use them
//! with `#[schema(inline)]`.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{
    Bio, CommentBody, Email, Password, PostBody, PostTitle, Summary, Tags, Username,
};

fn string(min: Option<usize>, max: usize, pattern: Option<&str>, about: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(min)
        .max_length(Some(max))
        .pattern(pattern)
        .description(Some(about))
        .into()
}

macro_rules! schema {
    ($t:ty, $schema:expr) => {
        impl PartialSchema for $t {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl ToSchema for $t {}
    };
}

schema!(
    Username,
    string(
        Some(Username::MIN),
        Username::MAX,
        Some("^[A-Za-z0-9_-]+$"),
        "Unique regardless of case."
    )
);
schema!(
    Password,
    string(
        Some(Password::MIN),
        Password::MAX,
        None,
        "Never shown again."
    )
);
schema!(
    Email,
    string(
        None,
        Email::MAX,
        None,
        "An email address (its shape is checked)."
    )
);
schema!(
    PostTitle,
    string(Some(1), PostTitle::MAX, Some("\\S"), "Not blank.")
);
schema!(
    PostBody,
    string(None, PostBody::MAX_BYTES, None, "Up to 64 KiB of UTF-8.")
);
schema!(
    Summary,
    string(
        None,
        Summary::MAX,
        None,
        "A short summary for lists; `\"\"` for none."
    )
);
schema!(
    CommentBody,
    string(Some(1), CommentBody::MAX, Some("\\S"), "Not blank.")
);
schema!(
    Tags,
    ArrayBuilder::new()
        .items(string(
            Some(1),
            Tags::MAX_LEN,
            Some(Tags::PATTERN),
            "Stored lower case."
        ))
        .max_items(Some(Tags::MAX))
        .description(Some(
            "Tags, stored lower case in the order given, duplicates dropped."
        ))
        .into()
);

/// `current_password`: a plain string or null (any typed password is checked, under the login
/// throttle), as long as the longest a password may be.
pub(super) fn current_password() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(Password::MAX))
        .description(Some(
            "The account's present password: required with `password` when users change their \
             own (a stolen token alone must not take an account over); not when an admin changes \
             another's.",
        ))
        .into()
}

/// `bio` in a change: any text up to its limit, or null; `""` and null clear it.
pub(super) fn bio_or_none() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(Bio::MAX))
        .description(Some(
            "A short text about the user; `\"\"` or `null` clears it.",
        ))
        .into()
}

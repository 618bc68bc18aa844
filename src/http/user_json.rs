//! How a user is shown: the public view anyone gets, the private one (with the email) for the
//! user themself and admins, and the changes `PATCH /api/users/{id}` takes.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::conditional::{never_stored, Versioned};
use super::openapi::{EmailOrNone, ImageOrNone};
use crate::domain::{Bio, Email, ImageUrl, Password, Timestamp};
use crate::store::User;

/// A page of users.
#[derive(Serialize, ToSchema)]
pub(super) struct UserPage<'a> {
    pub(super) users: Vec<PublicUser<'a>>,
    pub(super) next_cursor: Option<String>,
}

/// What anyone may see of a user: the profile and its counts.
#[derive(Serialize, ToSchema)]
#[schema(as = User)]
pub(super) struct PublicUser<'a> {
    id: i64,
    username: &'a str,
    /// Empty when none was given.
    bio: &'a str,
    /// An absolute http(s) URL of a picture, or null.
    image: Option<&'a str>,
    follower_count: i64,
    following_count: i64,
    post_count: i64,
    /// Whether the caller follows this user: present only when the request carries a valid token.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool, required = false)]
    following: Option<bool>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

/// What the user themself and admins see: the public view plus the email and the admin flag.
#[derive(Serialize, ToSchema)]
#[schema(as = UserWithEmail)]
pub(super) struct PrivateUser<'a> {
    id: i64,
    username: &'a str,
    /// Present only for the user themself and for admins; null when none was given.
    email: Option<&'a str>,
    /// Whether the account is an admin (set only from the shell: `postbase user set-admin`).
    /// Present only for the user themself and for admins, like `email`.
    #[schema(required = false)]
    admin: bool,
    bio: &'a str,
    image: Option<&'a str>,
    follower_count: i64,
    following_count: i64,
    post_count: i64,
    /// As in the public view: present only with a valid token.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool, required = false)]
    following: Option<bool>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

/// Changes to an account; absent fields are left as they are.
#[derive(Deserialize, ToSchema)]
pub(super) struct UserPatch {
    /// A new email; `""` or `null` removes it.
    #[serde(default, deserialize_with = "email_change")]
    #[schema(value_type = EmailOrNone, required = false)]
    pub(super) email: Option<Option<Email>>,
    /// A new password; the account's other sessions are logged out.
    #[schema(inline)]
    pub(super) password: Option<Password>,
    /// The account's present password: required with `password` when users change their own
    /// (a stolen token alone must not take an account over); not when an admin changes another's.
    #[schema(schema_with = super::schema::current_password)]
    pub(super) current_password: Option<String>,
    /// A new bio; `""` or `null` clears it.
    #[serde(default, deserialize_with = "bio_change")]
    #[schema(schema_with = super::schema::bio_or_none)]
    pub(super) bio: Option<Bio>,
    /// A picture's URL; `""` or `null` removes it.
    #[serde(default, deserialize_with = "image_change")]
    #[schema(value_type = ImageOrNone, required = false)]
    pub(super) image: Option<Option<ImageUrl>>,
}

/// An email, where `""` and `null` mean none.
pub(super) fn email_or_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Email>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(e) if e.is_empty() => Ok(None),
        Some(e) => Email::parse(&e).map(Some).map_err(serde::de::Error::custom),
    }
}

/// A change of email: present (even as `null` or `""`, which remove it) or absent (`None`).
fn email_change<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Email>>, D::Error> {
    email_or_none(d).map(Some)
}

/// A change of bio: present (`null` clears it, as `""` does) or absent (`None`).
fn bio_change<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bio>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(Some(Bio::default())),
        Some(b) => Bio::parse(&b).map(Some).map_err(serde::de::Error::custom),
    }
}

/// A change of image: present (even as `null` or `""`, which remove it) or absent (`None`).
fn image_change<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<ImageUrl>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(Some(None)),
        Some(i) if i.is_empty() => Ok(Some(None)),
        Some(i) => ImageUrl::parse(&i)
            .map(|i| Some(Some(i)))
            .map_err(serde::de::Error::custom),
    }
}

impl Versioned for User {
    fn version(&self) -> i64 {
        self.version
    }

    /// The version, the counts and whether the viewer follows: everything a viewer sees change.
    fn etag(&self) -> HeaderValue {
        let following = match self.following {
            None => "",
            Some(true) => "-f",
            Some(false) => "-n",
        };
        let tag = format!(
            "\"{}-{}-{}-{}{following}\"",
            self.version, self.follower_count, self.following_count, self.post_count
        );
        HeaderValue::from_str(&tag).expect("digits and dashes are a valid header")
    }
}

pub(super) fn public(u: &User) -> PublicUser<'_> {
    PublicUser {
        id: u.id,
        username: &u.username,
        bio: &u.bio,
        image: u.image.as_deref(),
        follower_count: u.follower_count,
        following_count: u.following_count,
        post_count: u.post_count,
        following: u.following,
        created_at: u.created_at,
    }
}

pub(super) fn private(u: &User) -> PrivateUser<'_> {
    PrivateUser {
        id: u.id,
        username: &u.username,
        admin: u.admin,
        email: u.email.as_deref(),
        bio: &u.bio,
        image: u.image.as_deref(),
        follower_count: u.follower_count,
        following_count: u.following_count,
        post_count: u.post_count,
        following: u.following,
        created_at: u.created_at,
    }
}

/// A response that shows an email or a token must not be kept by any cache.
pub(super) fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, never_stored());
    res
}

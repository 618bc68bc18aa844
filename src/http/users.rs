//! `/api/users`: sign-up, the public list, one user, and changes to one's own account.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AuthUser, MaybeAuthUser};
use super::body::Body;
use super::conditional::{change, never_stored, not_modified, public_revalidated, Versioned};
use super::openapi::{EmailOrNone, ErrorDoc};
use super::pagination::{finish_page, page_response, ListKind, ListParams};
use super::posts::varies_by_token;
use super::rate_limit::ClientIp;
use super::user_json::{
    email_or_none, no_store, private, public, PrivateUser, PublicUser, UserPage, UserPatch,
};
use super::{created, parse_id, AppState};
use crate::domain::{Bio, Email, ImageUrl, Password, Timestamp, Username};
use crate::error::ApiError;
use crate::store::{NewUser, User, UserChanges};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

pub(super) const NOT_FOUND: &str = "User not found";

/// Sign-up. Any other field (`id`, `admin`, ...) is ignored.
#[derive(Deserialize, ToSchema)]
struct SignUp {
    #[schema(inline)]
    username: Username,
    #[schema(inline)]
    password: Password,
    #[serde(default, deserialize_with = "email_or_none")]
    #[schema(value_type = EmailOrNone, required = false)]
    email: Option<Email>,
}

/// Sign up.
///
/// Usernames are unique regardless of case; `email` is optional. The answer is the public view of
/// the new account: log in with `POST /api/tokens` for a token. Send an `Idempotency-Key` to make
/// a retry after a lost answer safe.
#[utoipa::path(post, path = "/api/users", operation_id = "createUser", tag = "users",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key with the same request within 24 hours gets the first answer again (with `Idempotent-Replayed: true`) instead of doing it twice. 1-255 visible ASCII characters, chosen by the client.", min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body(content = SignUp, content_type = "application/json",
        example = json!({"username": "ada_l", "password": "correct horse battery staple", "email": "ada@example.com"})),
    responses(
        (status = 201, description = "The new account", body = PublicUser,
            headers(("Location" = String, description = "`/api/users/{id}`"), ("ETag" = String, description = "The user's version"))),
        (status = 409, description = "`Username already taken` or `Email already taken` (each case-insensitively), or a request with this `Idempotency-Key` still in progress", body = ErrorDoc),
        (status = 422, description = "This `Idempotency-Key` was used with a different request", body = ErrorDoc),
    ))]
async fn create(
    State(state): State<AppState>,
    Body(SignUp {
        username,
        password,
        email,
    }): Body<SignUp>,
) -> Result<Response, ApiError> {
    let password_hash = state.hasher.hash(&password).await?;
    let user = state
        .store
        .create_user(
            NewUser {
                username: username.as_str().to_owned(),
                email: email.map(Email::into_inner),
                password_hash,
                admin: false,
            },
            Timestamp::now(),
        )
        .await?;
    let mut res = (StatusCode::CREATED, Json(public(&user))).into_response();
    res.headers_mut().insert(header::ETAG, user.etag());
    Ok(created(res, &format!("/api/users/{}", user.id)))
}

/// List users, oldest first.
///
/// Public, without emails. Paged and revalidated like `GET /api/posts`: `next_cursor` and `Link`
/// lead to the next page, and a page's `ETag` in `If-None-Match` gets 304 while it is unchanged.
#[utoipa::path(get, path = "/api/users", operation_id = "listUsers", tag = "users",
    params(
        ("limit" = Option<u32>, Query, description = "Page size", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page (empty: the first page)", pattern = "^([A-Za-z0-9_-]{23})?$"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy of this page"),
    ),
    responses(
        (status = 200, description = "A page of users", body = UserPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"),
                ("ETag" = String, description = "The page's version (a hash of its content)"),
                ("Cache-Control" = String, description = "`no-cache`: revalidate before reuse"))),
        (status = 304, description = "The page is unchanged since the given ETag",
            headers(("ETag" = String, description = "The page's version"),
                ("Cache-Control" = String, description = "`no-cache`"))),
    ))]
async fn list(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    viewer: MaybeAuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = ListParams::parse(ListKind::Users, q.as_deref())?;
    let rows = state.store.list_users(params.probe(), viewer.id()).await?;
    let (users, next_cursor, link) =
        finish_page(ListKind::Users, "/api/users", &params, rows, |u| u.id);
    let users: Vec<_> = users.iter().map(public).collect();
    let page = page_response(&headers, &UserPage { users, next_cursor }, link)?;
    Ok(varies_by_token(page))
}

/// The user, as `viewer` sees them, or 404.
pub(super) async fn load(
    state: &AppState,
    raw_id: &str,
    viewer: Option<i64>,
) -> Result<User, ApiError> {
    let id = parse_id(raw_id, NOT_FOUND)?;
    state
        .store
        .user(id, viewer)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))
}

/// One user; with a token of that user or an admin, including the email.
///
/// A token is optional: without one (or with one that is not valid) the answer is the public
/// view, which caches may keep and revalidate (`no-cache`); to the user themself or an admin it
/// includes the email and must not be stored (`no-store`).
#[utoipa::path(get, path = "/api/users/{id}", operation_id = "getUser", tag = "users",
    security((), ("bearer" = [])),
    params(
        ("id" = i64, Path, description = "User id", minimum = 1),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier response"),
    ),
    responses(
        (status = 200, description = "The user", body = PrivateUser,
            headers(("ETag" = String, description = "The user's version"),
                ("Cache-Control" = String, description = "`no-cache` for the public view, `no-store` with the email"),
                ("Vary" = String, description = "`Authorization`: the token chooses the view"))),
        (status = 304, description = "Unchanged since the given ETag",
            headers(("ETag" = String, description = "The user's version"),
                ("Cache-Control" = String, description = "As the 200 would have"),
                ("Vary" = String, description = "`Authorization`"))),
    ))]
async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MaybeAuthUser(caller): MaybeAuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = load(&state, &id, caller.as_ref().map(|c| c.user.id)).await?;
    let own = caller.is_some_and(|c| c.may_act_for(user.id));
    let mut res = if not_modified(&headers, &user.etag()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if own {
        Json(private(&user)).into_response()
    } else {
        Json(public(&user)).into_response()
    };
    let cache = if own {
        never_stored()
    } else {
        public_revalidated()
    };
    res.headers_mut().insert(header::CACHE_CONTROL, cache);
    res.headers_mut().insert(header::ETAG, user.etag());
    Ok(varies_by_token(res))
}

/// Change one's profile, email or password (self or admin).
///
/// Only the fields sent change; `"email": ""` or `null` removes the email, `"bio": ""` clears
/// the bio and `"image": ""` or `null` removes the picture. A new password of
/// one's own needs `current_password`, and logs the account's other sessions out. `If-Match`
/// works as for posts.
#[utoipa::path(patch, path = "/api/users/{id}", operation_id = "updateUser", tag = "users",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "User id", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Apply only if the user is still at this ETag"),
    ),
    request_body(content = UserPatch, content_type = "application/json",
        example = json!({"bio": "Analyst of engines.", "image": "https://example.com/ada.png"})),
    responses(
        (status = 200, description = "The changed user", body = PrivateUser,
            headers(("ETag" = String, description = "The user's new version"))),
        (status = 403, description = "Not this user and not an admin", body = ErrorDoc),
        (status = 409, description = "`Email already taken`: another account has this email (case-insensitively)", body = ErrorDoc),
    ))]
async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Body(patch): Body<UserPatch>,
) -> Result<Response, ApiError> {
    let user = load(&state, &id, None).await?;
    if !caller.may_act_for(user.id) {
        return Err(ApiError::Forbidden("You may only change your own account"));
    }
    let own = caller.user.id == user.id;
    let current =
        match (&patch.password, own) {
            (Some(_), true) => Some(patch.current_password.as_deref().ok_or_else(|| {
                ApiError::required("current_password", "Current password required")
            })?),
            _ => None,
        };
    let mut changes = UserChanges {
        email: patch.email.map(|e| e.map(Email::into_inner)),
        bio: patch.bio.map(Bio::into_inner),
        image: patch.image.map(|i| i.map(ImageUrl::into_inner)),
        ..UserChanges::default()
    };
    // The password is checked and hashed between `If-Match` and the write: the one conditional
    // path, with this account's own steps in its write.
    let updated = change(
        &headers,
        Ok(user),
        |_| Ok(()),
        NOT_FOUND,
        |user, expected| async move {
            if let Some(current) = current {
                check_current_password(&state, &user.username, current, client).await?;
            }
            if let Some(password) = &patch.password {
                changes.password_hash = Some(state.hasher.hash(password).await?);
                changes.keep_token = own.then_some(caller.token.0);
            }
            Ok::<_, ApiError>(state.store.update_user(user.id, changes, expected).await?)
        },
    )
    .await?;
    let mut res = no_store(Json(private(&updated)).into_response());
    res.headers_mut().insert(header::ETAG, updated.etag());
    Ok(res)
}

/// Checks a user's present password, under the login throttle: a stolen token must not turn this
/// into a password oracle.
async fn check_current_password(
    state: &AppState,
    username: &str,
    password: &str,
    client: std::net::IpAddr,
) -> Result<(), ApiError> {
    let account = username.to_ascii_lowercase();
    let crate::auth::Admitted {
        attempt,
        credentials,
    } = state
        .throttle
        .begin(&account, client)
        .await?
        .map_err(|wait| ApiError::TooManyRequests {
            message: "Too many failed password checks for this account; try again later",
            retry_after: wait,
        })?;
    let hash = credentials.as_ref().map(|c| c.password_hash.as_str());
    if password.chars().count() <= Password::MAX && state.hasher.verify(password, hash).await? {
        attempt.succeeded().await;
        Ok(())
    } else {
        attempt.failed().await;
        Err(ApiError::Forbidden("Current password is incorrect"))
    }
}

/// Delete an account with its tokens and posts (self or admin).
///
/// Irreversible. With `If-Match`, only if the account is still at that version (412 otherwise).
#[utoipa::path(delete, path = "/api/users/{id}", operation_id = "deleteUser", tag = "users",
    security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "User id", minimum = 1),
        ("If-Match" = Option<String>, Header, description = "Delete only if the user is still at this ETag"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not this user and not an admin", body = ErrorDoc),
    ))]
async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let authorise = |user: &User| {
        if caller.may_act_for(user.id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("You may only delete your own account"))
        }
    };
    let loaded = load(&state, &id, None).await;
    change(&headers, loaded, authorise, NOT_FOUND, |user, expected| {
        state.store.delete_user(user.id, expected)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

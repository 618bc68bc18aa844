//! `/api/users`: sign-up, the public list, one user, and changes to one's own account.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::conditional::{etag, not_modified, require_match};
use super::json::{JsonObject, StrField};
use super::pagination::{finish_page, ListKind, ListParams};
use super::{parse_id, AppState};
use crate::auth::{AuthUser, MaybeAuthUser};
use crate::domain::{Email, Password, Timestamp, Username};
use crate::error::ApiError;
use crate::store::{Change, NewUser, User, UserChanges};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list).post(create))
        .route("/api/users/{id}", get(show).patch(update).delete(remove))
}

const NOT_FOUND: &str = "User not found";

#[derive(Serialize)]
struct UserPage<'a> {
    users: Vec<PublicUser<'a>>,
    next_cursor: Option<String>,
}

/// What anyone may see of a user.
#[derive(Serialize)]
pub struct PublicUser<'a> {
    id: i64,
    username: &'a str,
    created_at: Timestamp,
}

/// What the user themself and admins see: the public view plus the email.
#[derive(Serialize)]
pub struct PrivateUser<'a> {
    id: i64,
    username: &'a str,
    email: Option<&'a str>,
    created_at: Timestamp,
}

pub fn public(u: &User) -> PublicUser<'_> {
    PublicUser {
        id: u.id,
        username: &u.username,
        created_at: u.created_at,
    }
}

pub fn private(u: &User) -> PrivateUser<'_> {
    PrivateUser {
        id: u.id,
        username: &u.username,
        email: u.email.as_deref(),
        created_at: u.created_at,
    }
}

/// A response that shows an email or a token must not be kept by any cache.
pub fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn create(State(state): State<AppState>, body: JsonObject) -> Result<Response, ApiError> {
    let username = match body.opt_string("username")? {
        None => return Err(ApiError::required("username", "Username required")),
        Some(u) => Username::parse(u).map_err(|p| ApiError::invalid_field("username", p))?,
    };
    let password = match body.opt_string("password")? {
        None => return Err(ApiError::required("password", "Password required")),
        Some(p) => Password::parse(p).map_err(|p| ApiError::invalid_field("password", p))?,
    };
    let email = body
        .opt_string("email")?
        .filter(|e| !e.is_empty())
        .map(|e| Email::parse(e).map_err(|p| ApiError::invalid_field("email", p)))
        .transpose()?;
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
    let location = format!("/api/users/{}", user.id);
    let mut res = (StatusCode::CREATED, Json(public(&user))).into_response();
    res.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("an id path is a valid header"),
    );
    res.headers_mut().insert(header::ETAG, etag(user.version));
    Ok(res)
}

async fn list(State(state): State<AppState>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let params = ListParams::parse(ListKind::Users, q.as_deref())?;
    let rows = state.store.list_users(params.probe()).await?;
    let (users, next_cursor, link) = finish_page(ListKind::Users, &params, rows, |u| u.id);
    let users: Vec<_> = users.iter().map(public).collect();
    let mut res = Json(UserPage { users, next_cursor }).into_response();
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LINK, link);
    }
    Ok(res)
}

async fn load(state: &AppState, raw_id: &str) -> Result<User, ApiError> {
    let id = parse_id(raw_id, NOT_FOUND)?;
    state
        .store
        .user(id)
        .await?
        .ok_or(ApiError::NotFound(NOT_FOUND))
}

async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MaybeAuthUser(caller): MaybeAuthUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = load(&state, &id).await?;
    let own = caller.is_some_and(|c| c.may_act_for(user.id));
    let mut res = if not_modified(&headers, user.version) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if own {
        no_store(Json(private(&user)).into_response())
    } else {
        Json(public(&user)).into_response()
    };
    res.headers_mut().insert(header::ETAG, etag(user.version));
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Authorization"));
    Ok(res)
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let user = load(&state, &id).await?;
    if !caller.may_act_for(user.id) {
        return Err(ApiError::Forbidden("You may only change your own account"));
    }
    let expected = require_match(&headers, user.version)?;
    let mut changes = UserChanges::default();
    match body.string("email")? {
        StrField::Absent => {}
        StrField::Null => changes.email = Some(None),
        StrField::Value("") => changes.email = Some(None),
        StrField::Value(e) => {
            let email = Email::parse(e).map_err(|p| ApiError::invalid_field("email", p))?;
            changes.email = Some(Some(email.into_inner()));
        }
    }
    if let Some(p) = body.opt_string("password")? {
        let password = Password::parse(p).map_err(|p| ApiError::invalid_field("password", p))?;
        changes.password_hash = Some(state.hasher.hash(&password).await?);
        changes.keep_token = (caller.user.id == user.id).then_some(caller.token.0);
    }
    match state.store.update_user(user.id, changes, expected).await? {
        Change::Done(updated) => {
            let mut res = no_store(Json(private(&updated)).into_response());
            res.headers_mut()
                .insert(header::ETAG, etag(updated.version));
            Ok(res)
        }
        Change::NotFound => Err(ApiError::NotFound(NOT_FOUND)),
        Change::VersionMismatch => Err(ApiError::PreconditionFailed),
    }
}

async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: AuthUser,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let user = load(&state, &id).await?;
    if !caller.may_act_for(user.id) {
        return Err(ApiError::Forbidden("You may only delete your own account"));
    }
    let expected = require_match(&headers, user.version)?;
    match state.store.delete_user(user.id, expected).await? {
        Change::Done(()) => Ok(StatusCode::NO_CONTENT),
        Change::NotFound => Err(ApiError::NotFound(NOT_FOUND)),
        Change::VersionMismatch => Err(ApiError::PreconditionFailed),
    }
}

//! `/users` (register), `/users/login` (by email), `/user` (read and change one's own account).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::rate_limit::ClientIp;
use super::super::tokens::{issue_token, sign_in};
use super::super::AppState;
use super::views::{self, UserEnvelope};
use super::{answer, Caller, Json};
use crate::domain::{Bio, Email, ImageUrl, Password, Timestamp, Username};
use crate::error::{ApiError, Conduit};
use crate::store::{NewUser, UserChanges};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(current, update))
}

#[derive(Deserialize, ToSchema)]
struct NewUserBody {
    #[schema(inline)]
    username: Username,
    #[schema(inline)]
    email: Email,
    #[schema(inline)]
    password: Password,
}

#[derive(Deserialize, ToSchema)]
struct Register {
    user: NewUserBody,
}

/// Register: an account and, at once, a token for it.
#[utoipa::path(post, path = "/realworld/api/users", operation_id = "CreateUser", tag = "realworld",
    request_body = Register,
    responses(
        (status = 201, description = "The new account, with a token", body = UserEnvelope),
        (status = 409, description = "Username or email already taken"),
        (status = 422, description = "A missing or invalid field"),
    ))]
async fn register(
    State(state): State<AppState>,
    Json(Register { user }): Json<Register>,
) -> Result<Response, Conduit> {
    let password_hash = state.hasher.hash(&user.password).await?;
    let new = NewUser {
        username: user.username.as_str().to_owned(),
        email: Some(user.email.into_inner()),
        password_hash,
        admin: false,
    };
    let created = state.store.create_user(new, Timestamp::now()).await?;
    let (token, _) = issue_token(&state, created.id).await?;
    Ok(answer(
        StatusCode::CREATED,
        views::user(&created, token.as_str()),
    ))
}

#[derive(Deserialize, ToSchema)]
struct Credentials {
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
struct Login {
    user: Credentials,
}

/// Log in by email, under the same throttle as `POST /api/tokens`.
#[utoipa::path(post, path = "/realworld/api/users/login", operation_id = "Login", tag = "realworld",
    request_body = Login,
    responses(
        (status = 200, description = "The account, with a new token", body = UserEnvelope),
        (status = 401, description = "Wrong email or password (the same answer for both)"),
        (status = 429, description = "Too many failed logins for this account"),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Json(Login { user }): Json<Login>,
) -> Result<Response, Conduit> {
    // An email that is no account is throttled and hashed against like a wrong password, under
    // a name no username can have.
    let account = match state.store.credentials_by_email(&user.email).await? {
        Some(found) => found.user.username.to_ascii_lowercase(),
        None => format!("@{}", user.email.to_lowercase()),
    };
    let (user, token, _) = sign_in(&state, client, &account, &user.password).await?;
    Ok(answer(StatusCode::OK, views::user(&user, token.as_str())))
}

/// The caller's account, with the token of this request.
#[utoipa::path(get, path = "/realworld/api/user", operation_id = "GetCurrentUser", tag = "realworld",
    security(("token" = [])),
    responses(
        (status = 200, description = "The caller", body = UserEnvelope),
        (status = 401, description = "No valid token"),
    ))]
async fn current(caller: Caller) -> Response {
    answer(StatusCode::OK, views::user(&caller.user, &caller.token))
}

/// The fields to change; an empty string for `password` changes nothing, for `bio` and `image`
/// clears them.
#[derive(Deserialize, ToSchema)]
struct Changes {
    #[schema(inline)]
    email: Option<Email>,
    username: Option<String>,
    password: Option<String>,
    bio: Option<String>,
    image: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct Update {
    user: Changes,
}

/// Change one's own account. A new password logs out the account's other sessions.
#[utoipa::path(put, path = "/realworld/api/user", operation_id = "UpdateCurrentUser", tag = "realworld",
    security(("token" = [])),
    request_body = Update,
    responses(
        (status = 200, description = "The changed account", body = UserEnvelope),
        (status = 401, description = "No valid token"),
        (status = 409, description = "Username or email already taken"),
        (status = 422, description = "An invalid field"),
    ))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Json(Update { user: c }): Json<Update>,
) -> Result<Response, Conduit> {
    let invalid = |field: &str, problem: &str| Conduit(ApiError::invalid_field(field, problem));
    let mut changes = UserChanges {
        email: c.email.map(|e| Some(e.into_inner())),
        ..UserChanges::default()
    };
    if let Some(name) = c
        .username
        .filter(|n| !n.eq_ignore_ascii_case(&caller.user.username))
    {
        let name = Username::parse(&name).map_err(|p| invalid("username", p))?;
        changes.username = Some(name.as_str().to_owned());
    }
    if let Some(bio) = c.bio {
        changes.bio = Some(
            Bio::parse(&bio)
                .map_err(|p| invalid("bio", p))?
                .into_inner(),
        );
    }
    if let Some(image) = c.image {
        changes.image = Some(match image.as_str() {
            "" => None,
            url => Some(
                ImageUrl::parse(url)
                    .map_err(|p| invalid("image", p))?
                    .into_inner(),
            ),
        });
    }
    if let Some(password) = c.password.filter(|p| !p.is_empty()) {
        let password = Password::parse(&password).map_err(|p| invalid("password", p))?;
        changes.password_hash = Some(state.hasher.hash(&password).await?);
        changes.keep_token = Some(crate::auth::TokenHash::of(&caller.token).0);
    }
    let updated = match state
        .store
        .update_user(caller.user.id, changes, None)
        .await?
    {
        crate::store::Change::Done(user) => user,
        _ => return Err(Conduit(ApiError::InvalidToken)),
    };
    Ok(answer(StatusCode::OK, views::user(&updated, &caller.token)))
}

//! `AuthUser` in a handler's arguments means "a valid token is required"; `MaybeAuthUser` means
//! "a token changes what is shown, but none is needed".

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use crate::auth::{parse_bearer, TokenHash};
use crate::domain::Timestamp;
use crate::error::ApiError;
use crate::http::AppState;
use crate::store::User;

/// The caller, proven by a live token.
#[derive(Debug)]
pub struct AuthUser {
    pub user: User,
    /// The presented token's hash: logout revokes exactly this one.
    pub token: TokenHash,
}

impl AuthUser {
    /// May the caller act on what `owner_id` owns?
    pub fn may_act_for(&self, owner_id: i64) -> bool {
        self.user.admin || self.user.id == owner_id
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Missing, malformed, unknown, expired and revoked all get the same answer.
        let hash = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| parse_bearer(h.as_bytes()))
            .ok_or(ApiError::InvalidToken)?;
        let user = state
            .store
            .token_user(hash.0, Timestamp::now())
            .await?
            .ok_or(ApiError::InvalidToken)?;
        Ok(Self { user, token: hash })
    }
}

/// The caller if a valid token came with the request; anonymous otherwise (even for a bad token,
/// since nothing on these routes needs one).
#[derive(Debug)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl MaybeAuthUser {
    /// The caller's user id, if there is a caller.
    pub fn id(&self) -> Option<i64> {
        self.0.as_ref().map(|a| a.user.id)
    }
}

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(Self(None));
        }
        match AuthUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(Self(Some(user))),
            Err(ApiError::InvalidToken) => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}

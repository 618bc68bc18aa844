//! The RealWorld ("Conduit") API at `/realworld/api`, on with `--realworld`: the same users,
//! posts, comments, likes, tags and follows as `/api`, in that specification's paths, envelopes,
//! status codes and error shape (`{"errors": {"body": [...]}}`), for the frontends written
//! against it. A thin adapter: it translates requests and answers and calls the same domain
//! types and store as `/api`, with no SQL of its own. Tokens are postbase's (revocable, hashed,
//! throttled at login), sent as `Authorization: Token <token>` (or `Bearer`).

mod articles;
mod comments;
mod favorites;
mod profiles;
mod users;
mod views;

use std::sync::OnceLock;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::Body;
use super::AppState;
use crate::auth::parse_bearer;
use crate::domain::Timestamp;
use crate::error::{ApiError, Conduit};
use crate::store::User;

pub(super) const PREFIX: &str = "/realworld/api";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "postbase: RealWorld (Conduit) API",
        description = "The RealWorld specification's API over postbase's data. Errors are \
                       `{\"errors\": {\"body\": [\"…\"]}}`; validation failures are 422. Send \
                       `Authorization: Token <token>` (or `Bearer <token>`).",
        license(name = "MIT", identifier = "MIT")
    ),
    servers((url = "/", description = "The server that serves this document")),
    tags((name = "realworld", description = "The Conduit API"))
)]
struct RealWorldDoc;

/// Every route of the surface, with its document.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(RealWorldDoc::openapi())
        .merge(users::router())
        .merge(profiles::router())
        .merge(articles::router())
        .merge(comments::router())
}

static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();

/// The routes, under `/realworld/api`, and `/realworld/api/openapi.json`.
pub(super) fn router() -> axum::Router<AppState> {
    let (routes, mut doc) = api().split_for_parts();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "token",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`Token <token>`, the token from registering or logging in",
        ))),
    );
    let json = serde_json::to_value(&doc).expect("the document serialises");
    let _ = DOCUMENT.set(json);
    routes.route(
        &format!("{PREFIX}/openapi.json"),
        axum::routing::get(|| async {
            let doc = DOCUMENT.get().cloned().unwrap_or_default();
            axum::Json(doc).into_response()
        }),
    )
}

/// The token a request carries, `Token <t>` or `Bearer <t>`.
fn presented(parts: &Parts) -> Option<(String, [u8; 32])> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Token ")
        .or_else(|| value.strip_prefix("Bearer "))?
        .trim();
    let hash = parse_bearer(format!("Bearer {token}").as_bytes())?;
    Some((token.to_owned(), hash.0))
}

/// The caller, proven by a live token; its token is echoed in `{"user": …}` answers.
pub(super) struct Caller {
    pub(super) user: User,
    pub(super) token: String,
}

impl Caller {
    /// May the caller act on what `owner_id` owns? (Themself, or an admin.)
    pub(super) fn may_act_for(&self, owner_id: i64) -> bool {
        self.user.admin || self.user.id == owner_id
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Conduit;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Conduit> {
        let (token, hash) = presented(parts).ok_or(ApiError::InvalidToken)?;
        let user = state
            .store
            .token_user(hash, Timestamp::now())
            .await?
            .ok_or(ApiError::InvalidToken)?;
        Ok(Self { user, token })
    }
}

/// The caller if the request carries a valid token; anonymous otherwise.
pub(super) struct MaybeCaller(pub(super) Option<Caller>);

impl MaybeCaller {
    pub(super) fn id(&self) -> Option<i64> {
        self.0.as_ref().map(|c| c.user.id)
    }
}

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = Conduit;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Conduit> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(Self(None));
        }
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Self(Some(caller))),
            Err(Conduit(ApiError::InvalidToken)) => Ok(Self(None)),
            Err(e) => Err(e),
        }
    }
}

/// A request body in the surface's envelope, read by postbase's rules and refused in its shape.
pub(super) struct Json<T>(pub(super) T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = Conduit;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Conduit> {
        let Body(value) = Body::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// The users with these ids, as `viewer` sees them, each read once (the authors of a page).
pub(super) async fn users_by_id(
    state: &AppState,
    mut ids: Vec<i64>,
    viewer: Option<i64>,
) -> Result<std::collections::HashMap<i64, User>, Conduit> {
    ids.sort_unstable();
    ids.dedup();
    let mut users = std::collections::HashMap::with_capacity(ids.len());
    for id in ids {
        if let Some(user) = state.store.user(id, viewer).await? {
            users.insert(id, user);
        }
    }
    Ok(users)
}

/// A JSON answer with a status.
pub(super) fn answer(
    status: axum::http::StatusCode,
    body: impl serde::Serialize,
) -> axum::response::Response {
    (status, axum::Json(body)).into_response()
}

/// `GET /realworld/api/tags`: the most used tags.
#[utoipa::path(get, path = "/realworld/api/tags", operation_id = "GetTags", tag = "realworld",
    responses((status = 200, description = "Tags", body = views::TagList)))]
async fn tags(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<axum::response::Response, Conduit> {
    let tags = state.store.popular_tags(100).await?;
    let tags = tags.into_iter().map(|t| t.name).collect();
    Ok(answer(axum::http::StatusCode::OK, views::TagList { tags }))
}

pub(super) fn tags_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tags))
}

//! `GET /api/events`: committed changes as Server-Sent Events, resumable from any position the
//! log still holds; `POST /api/events/tickets`: the single-use ticket a browser's `EventSource`
//! (which cannot send `Authorization`) opens a stream with. See the README's "Realtime".

mod filter;
mod frame;
mod hub;
mod stream;

use std::collections::HashSet;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AuthUser;
use super::openapi::ErrorDoc;
use super::rate_limit::ClientIp;
use super::AppState;
use crate::auth::{parse_bearer, Token, TokenHash};
use crate::domain::Timestamp;
use crate::error::ApiError;
use filter::{parse_topics, Filter, TopicsError};
pub(crate) use frame::{CommentGone, LikeChange, Notification, PostGone, Reset};
pub use hub::{Hub, HubConfig};

/// One message of the stream: its `id:`, `event:` and `data:` fields. (OpenAPI cannot say that
/// a body is a sequence of these; this is the schema of each.)
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct EventMessage<'a> {
    /// The event's position in the log.
    id: i64,
    /// `post.created`, `post.updated`, `post.deleted`, `comment.created`, `comment.updated`,
    /// `comment.deleted`, `post.liked`, `feed`, `notification` or `reset`.
    event: String,
    data: EventData<'a>,
}

/// An event's `data`, by event (see `x-events` on the operation for which is which).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum EventData<'a> {
    Post(super::PostJson<'a>),
    Comment(super::comments::CommentJson<'a>),
    PostGone(PostGone),
    CommentGone(CommentGone),
    LikeChange(LikeChange<'a>),
    Notification(Notification<'a>),
    Reset(Reset),
}

/// How long a ticket stays valid.
const TICKET_TTL: Duration = Duration::from_secs(60);

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(issue_ticket))
}

/// What `GET /api/events` was asked, read from the raw query.
#[derive(Default)]
struct Params {
    topics: Option<String>,
    post: Option<i64>,
    author: Option<i64>,
    since: Option<i64>,
    ticket: Option<String>,
}

fn id_param(name: &str, value: &str) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid_field(name, "must be a positive integer"))
}

/// A position: 0 (before everything) or more.
fn position(name: &str, value: &str) -> Result<i64, ApiError> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| ApiError::invalid_field(name, "must be an event id (an integer, 0 or more)"))
}

impl Params {
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let mut p = Self::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match &*key {
                "topics" => p.topics = Some(value.into_owned()),
                "post" => p.post = Some(id_param("post", &value)?),
                "author" => p.author = Some(id_param("author", &value)?),
                "since" => p.since = Some(position("since", &value)?),
                "ticket" => p.ticket = Some(value.into_owned()),
                _ => {}
            }
        }
        Ok(p)
    }
}

/// The stream's user: from `Authorization`, else from a ticket; a bad one of either is 401.
async fn stream_user(
    state: &AppState,
    headers: &HeaderMap,
    ticket: Option<&str>,
) -> Result<Option<i64>, ApiError> {
    let now = Timestamp::now();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let hash = parse_bearer(value.as_bytes()).ok_or(ApiError::InvalidToken)?;
        let user = state.store.token_user(hash.0, now).await?;
        return user.map(|u| Some(u.id)).ok_or(ApiError::InvalidToken);
    }
    match ticket {
        None => Ok(None),
        Some(ticket) => {
            let hash = TokenHash::of(ticket);
            let user = state.store.redeem_ticket(hash.0, now).await?;
            user.map(Some).ok_or(ApiError::InvalidToken)
        }
    }
}

/// Live changes as Server-Sent Events.
///
/// Events: `post.created`, `post.updated`, `post.deleted`, `comment.created`,
/// `comment.updated`, `comment.deleted`, `post.liked`, and for the stream's own user `feed` (a
/// new post by someone they follow) and `notification` (a comment on or like of their post).
/// `data` is JSON: a `Post` (as shown without a token) for `post.created`, `post.updated` and
/// `feed`; a `Comment` for `comment.created` and `comment.updated`; `PostGone`, `CommentGone`,
/// `LikeChange`, `Notification` and `Reset` for the rest. Each event's `id` is its position in
/// the log: reconnect with `Last-Event-ID` (browsers do) or `?since=` to get everything after
/// it exactly once, then the live stream. A position the log no longer holds gets one `reset`
/// event. A comment line (`: keep-alive`) comes every 15 s.
///
/// Authentication: `Authorization: Bearer …`, or for a browser's `EventSource` a `ticket` from
/// `POST /api/events/tickets`. Without either, only public topics.
#[utoipa::path(get, path = "/api/events", operation_id = "streamEvents", tag = "events",
    security((), ("bearer" = [])),
    params(
        ("topics" = Option<String>, Query, description = "Comma-separated: `posts`, `comments`, `likes`, `feed`, `notifications`. Default: the public three, plus `notifications` for a signed-in stream. `feed` and `notifications` need a user.", pattern = "^[a-z,]*$"),
        ("post" = Option<i64>, Query, description = "Only events about this post", minimum = 1),
        ("author" = Option<i64>, Query, description = "Only events about posts by this user", minimum = 1),
        ("since" = Option<i64>, Query, description = "Start after this event id (as `Last-Event-ID`, which wins when both are sent)", minimum = 0),
        ("ticket" = Option<String>, Query, description = "A ticket from `POST /api/events/tickets` (single use, 60 s)"),
        ("Last-Event-ID" = Option<i64>, Header, description = "The id of the last event received"),
    ),
    responses(
        (status = 200, description = "An endless `text/event-stream` of messages", content_type = "text/event-stream", body = EventMessage),
        (status = 400, description = "A bad parameter", body = ErrorDoc),
        (status = 401, description = "A bad token or ticket, or a private topic without either", body = ErrorDoc),
        (status = 429, description = "Too many streams from this address", body = ErrorDoc),
        (status = 503, description = "Too many streams on this instance", body = ErrorDoc),
    ))]
async fn events(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref())?;
    let since = match headers.get("last-event-id") {
        Some(v) => Some(position(
            "Last-Event-ID",
            v.to_str()
                .map_err(|_| ApiError::invalid_field("Last-Event-ID", "must be an event id"))?,
        )?),
        None => params.since,
    };
    let user = stream_user(&state, &headers, params.ticket.as_deref()).await?;
    let topics = parse_topics(params.topics.as_deref(), user.is_some()).map_err(|e| match e {
        TopicsError::Unknown(name) => ApiError::invalid_field(
            "topics",
            &format!("unknown topic {name:?} (posts, comments, likes, feed, notifications)"),
        ),
        TopicsError::NeedsUser => ApiError::InvalidToken,
    })?;
    let filter = Filter {
        topics,
        post: params.post,
        author: params.author,
        user,
    };
    let followees: HashSet<i64> = match user {
        Some(me) if topics & filter::FEED != 0 => {
            state.store.followee_ids(me).await?.into_iter().collect()
        }
        _ => HashSet::new(),
    };
    // Registered before the log's end is read, so nothing committed in between is missed.
    let sub = state
        .hub
        .subscribe(filter, followees, Some(ip))
        .map_err(|r| match r {
            hub::Refused::AddressFull => ApiError::TooManyRequests {
                message: "Too many event streams from this address",
                retry_after: Duration::from_secs(5),
            },
            hub::Refused::Full | hub::Refused::ShuttingDown => ApiError::Overloaded {
                message: "Too many event streams on this instance",
                retry_after: Duration::from_secs(5),
            },
        })?;
    let bounds = state.store.log_bounds().await?;
    let (after, first) = match since {
        Some(s) if s >= bounds.trimmed_through && s <= bounds.head => (s, None),
        None => (bounds.head, None),
        Some(s) => {
            let reason = if s > bounds.head {
                "unknown"
            } else {
                "expired"
            };
            let reset = Reset {
                last_event_id: bounds.head,
                reason,
            };
            let data = serde_json::to_value(&reset).unwrap_or_default();
            (
                bounds.head,
                Some(frame::message(bounds.head, "reset", &data)),
            )
        }
    };
    let mut res = Response::new(stream::body(state.store.clone(), sub, after, first));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies that buffer responses (nginx) would hold events back.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// Names each event's `data` schema on the stream's operation, as `x-events` (OpenAPI has no
/// words for an event stream's messages; generators ignore the extension, readers and tools that
/// know it get a schema per event name).
pub(super) fn document_events(doc: &mut serde_json::Value) {
    let schema = |name: &str| serde_json::json!({"$ref": format!("#/components/schemas/{name}")});
    let events = serde_json::json!({
        "post.created": schema("Post"),
        "post.updated": schema("Post"),
        "post.deleted": schema("PostGone"),
        "comment.created": schema("Comment"),
        "comment.updated": schema("Comment"),
        "comment.deleted": schema("CommentGone"),
        "post.liked": schema("LikeChange"),
        "feed": schema("Post"),
        "notification": schema("Notification"),
        "reset": schema("Reset"),
    });
    if let Some(op) = doc.pointer_mut("/paths/~1api~1events/get") {
        op["x-events"] = events;
    }
    // `anyOf`, not the `oneOf` an untagged enum makes: the shapes overlap (a `PostGone` is a
    // part of a `Post`), and which one `data` has is said by `event`, not by the data itself.
    if let Some(data) = doc
        .pointer_mut("/components/schemas/EventData")
        .and_then(|d| d.as_object_mut())
    {
        if let Some(shapes) = data.remove("oneOf") {
            data.insert("anyOf".to_owned(), shapes);
        }
    }
}

/// A stream ticket.
#[derive(Serialize, ToSchema)]
struct TicketJson {
    /// Pass as `GET /api/events?ticket=…` within 60 s; it works once.
    ticket: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// A single-use ticket to open an event stream from a browser.
///
/// `EventSource` cannot send `Authorization`, and a token must never travel in a URL (it would
/// reach logs and history). A ticket may: it opens one stream, within 60 s, and is gone.
#[utoipa::path(post, path = "/api/events/tickets", operation_id = "createEventTicket", tag = "events",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ticket", body = TicketJson,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "No valid token", body = ErrorDoc),
    ))]
async fn issue_ticket(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Response, ApiError> {
    let ticket = Token::generate();
    let expires_at = Timestamp::now().plus(TICKET_TTL);
    state
        .store
        .issue_ticket(ticket.hash().0, caller.user.id, expires_at)
        .await?;
    let body = TicketJson {
        ticket: ticket.as_str().to_owned(),
        expires_at,
    };
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

//! The layers every response passes through, outermost first:
//! `observe` (request id, timeout, one log line, hygiene headers, a default `Cache-Control` on
//! `GET`, request id in 5xx bodies),
//! `cors`, `json_errors` (the framework's own 404/405/400 become JSON), then a panic catcher.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use tracing::Instrument;

use super::AppState;
use crate::error::{error_response, ServerFault};
use crate::store::gate::{self, WriteGate};

pub(super) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id is kept if it is short, visible ASCII; anything else is replaced.
fn client_request_id(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    let ok = !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(|b| b.is_ascii_graphic());
    ok.then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// The only HTML postbase serves is the docs page, whose assets are all its own: nothing from
/// elsewhere may load, run, frame it or be sent anywhere but back here. Swagger UI sets inline
/// styles, hence `'unsafe-inline'` for styles only.
const HTML_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

pub(super) async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(client_request_id)
        .unwrap_or_else(|| format!("{:032x}", rand::thread_rng().gen::<u128>()));
    let method = req.method().clone();

    let span = tracing::info_span!("request", request_id = %id);
    let gate = Arc::new(WriteGate::default());
    let run = gate::scope(gate.clone(), next.run(req)).instrument(span);
    tokio::pin!(run);
    let mut res = tokio::select! {
        res = &mut run => res,
        () = tokio::time::sleep(state.limits.request_timeout) => {
            if gate.abandon() {
                error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    "The request took too long and was abandoned",
                )
            } else {
                // A write of this request has begun: its answer must be the real one.
                run.await
            }
        }
    };
    if res.extensions().get::<ServerFault>().is_some() {
        res = with_request_id(res, &id).await;
    }

    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(X_REQUEST_ID.clone(), v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Nothing served may be reused unasked: a GET answer that chose no policy of its own (an error,
    // a probe, the docs page) is to be revalidated, never taken from a cache on a guess.
    if (method == Method::GET || method == Method::HEAD)
        && !headers.contains_key(header::CACHE_CONTROL)
    {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(HTML_CSP),
        );
    }

    let route = res
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", |m| m.as_str())
        .to_owned();
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .record_request(&route, &method, status, elapsed);
    let latency_ms = format!("{:.3}", elapsed.as_secs_f64() * 1000.0);
    if status >= 500 {
        tracing::error!(%method, %route, status, %latency_ms, request_id = %id, "request");
    } else {
        tracing::info!(%method, %route, status, %latency_ms, request_id = %id, "request");
    }
    res
}

/// Copies the route template that matched (`/api/posts/{id}`) onto the response, where the outer
/// layers, which run before routing, can read it for logs and metrics.
pub(super) async fn record_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(route);
    }
    res
}

/// Adds `"request_id"` to a server fault's JSON body, so a user's bug report can be matched to the log.
async fn with_request_id(res: Response, id: &str) -> Response {
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let mut json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).unwrap_or_default();
    json.entry("error")
        .or_insert_with(|| "Internal server error".into());
    json.insert("request_id".into(), id.into());
    let body = serde_json::to_vec(&json).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// Which origins may call the API from a browser.
#[derive(Debug, Clone)]
pub enum Cors {
    /// Any origin, answered with `*` and never with credentials: the original's `CORS(app)`.
    Any,
    /// Exactly these origins, compared byte for byte.
    Only(Vec<HeaderValue>),
}

impl Cors {
    /// `*` (or nothing) is any origin; otherwise each entry must be an origin as browsers send
    /// it, `scheme://host[:port]`, or postbase refuses to start rather than block every browser.
    pub fn from_origins(origins: &[String]) -> anyhow::Result<Self> {
        let origins: Vec<_> = origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
            .collect();
        if origins.is_empty() || origins == ["*"] {
            return Ok(Self::Any);
        }
        let values = origins
            .into_iter()
            .map(|o| {
                let origin = parse_origin(o).map_err(|why| {
                    anyhow::anyhow!(
                        "--cors-origins: {o:?} {why}; an origin is scheme://host[:port] with no \
                         path, e.g. https://app.example.com or http://localhost:5173, or * for any"
                    )
                })?;
                HeaderValue::from_str(&origin).map_err(|_| {
                    anyhow::anyhow!("--cors-origins: {o:?} is not a valid header value")
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self::Only(values))
    }

    /// The policy, for the log at start.
    pub fn describe(&self) -> String {
        match self {
            Self::Any => "any origin (Access-Control-Allow-Origin: *, no credentials)".into(),
            Self::Only(list) => {
                let names: Vec<_> = list.iter().filter_map(|v| v.to_str().ok()).collect();
                format!("only {}", names.join(", "))
            }
        }
    }
    fn allow(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        match self {
            Self::Any => Some(HeaderValue::from_static("*")),
            Self::Only(list) => list.iter().find(|o| *o == origin).cloned(),
        }
    }
}

/// An origin in the form browsers send: lower-case scheme and host, no trailing slash.
fn parse_origin(o: &str) -> Result<String, &'static str> {
    if o == "*" {
        return Err("cannot be combined with other origins");
    }
    let (scheme, rest) = o
        .split_once("://")
        .ok_or("has no scheme (http:// or https://)")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err("has a scheme other than http or https");
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err("has a path, a query or a fragment");
    }
    if authority.contains('@') {
        return Err("has user information");
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']').ok_or("has an unclosed [")?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err("has no host");
    }
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err("has a port that is not a number");
    }
    Ok(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

const ALLOW_HEADERS: &str =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, Last-Event-ID, X-Request-Id";
const EXPOSE_HEADERS: &str = "Location, ETag, Link, X-Request-Id, Retry-After, WWW-Authenticate, \
    Idempotent-Replayed";
const ALL_METHODS: &str = "GET,HEAD,POST,PUT,PATCH,DELETE,OPTIONS";
/// How long a browser may cache a preflight answer, in seconds.
const MAX_AGE: &str = "600";

pub(super) async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let allowed = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| state.cors.allow(o));
    let is_options = req.method() == Method::OPTIONS;
    let is_preflight = is_options
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = next.run(req).await;

    if is_options {
        // No route has an OPTIONS handler: the router's 405 carries the route's `Allow`.
        let allow = match res.status() {
            StatusCode::METHOD_NOT_ALLOWED => Some(
                res.headers()
                    .get(header::ALLOW)
                    .and_then(|a| {
                        HeaderValue::from_str(&format!("{},OPTIONS", a.to_str().ok()?)).ok()
                    })
                    .unwrap_or_else(|| HeaderValue::from_static(ALL_METHODS)),
            ),
            StatusCode::NOT_FOUND if is_preflight => Some(HeaderValue::from_static(ALL_METHODS)),
            _ => None,
        };
        if let Some(allow) = allow {
            res = StatusCode::NO_CONTENT.into_response();
            let h = res.headers_mut();
            h.insert(header::ALLOW, allow.clone());
            if allowed.is_some() {
                h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, allow);
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static(ALLOW_HEADERS),
                );
                h.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(MAX_AGE),
                );
            }
        }
    }

    let h = res.headers_mut();
    if let Some(origin) = allowed {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    if matches!(state.cors, Cors::Only(_)) {
        // One `Vary` line: a client reading only the first (as many do) still sees every name.
        let vary = match h.get(header::VARY).and_then(|v| v.to_str().ok()) {
            Some(names) => format!("{names}, Origin"),
            None => "Origin".to_owned(),
        };
        if let Ok(vary) = HeaderValue::from_str(&vary) {
            h.insert(header::VARY, vary);
        }
    }
    res
}

/// Turns any error response that is not already JSON (the router's 404 and 405, an extractor's
/// plain-text rejection) into the JSON error shape, keeping its status and `Allow` header.
pub(super) async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "Request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Request body must be JSON (Content-Type: application/json)",
        ),
        s if s.is_server_error() => ("internal", "Internal server error"),
        _ => ("bad_request", "Bad request"),
    };
    let mut out = error_response(status, code, message);
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_are_origins_or_a_star() {
        assert!(matches!(
            Cors::from_origins(&["*".into()]).unwrap(),
            Cors::Any
        ));
        assert!(matches!(Cors::from_origins(&[]).unwrap(), Cors::Any));
        let Cors::Only(list) = Cors::from_origins(&[
            "https://App.Example".into(),
            "http://localhost:5173/".into(),
        ])
        .unwrap() else {
            panic!("a list")
        };
        assert_eq!(list, ["https://app.example", "http://localhost:5173"]);
        for bad in [
            "http://host:5173/app",
            "host:5173",
            "ftp://x",
            "http://",
            "http://h:x",
        ] {
            let err = Cors::from_origins(&[bad.into()]).unwrap_err().to_string();
            assert!(err.contains("scheme://host[:port]"), "{bad}: {err}");
        }
        assert!(Cors::from_origins(&["*".into(), "https://a.example".into()]).is_err());
    }
}

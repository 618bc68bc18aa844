//! `GET /metrics` in Prometheus text format: requests by route, method and status; a latency
//! histogram by route; the database pool; logins; tokens. Counted in this process: with several
//! instances, scrape each one (the usual Prometheus model).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, Method};
use axum::response::IntoResponse;

use super::openapi::ErrorDoc;
use super::AppState;
use crate::error::ApiError;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default, Debug)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What is counted per route template.
#[derive(Default, Debug)]
struct RouteStats {
    /// (method, status, count): a handful per route, so a scan beats a map.
    responses: Vec<(&'static str, u16, u64)>,
    latency: Histogram,
}

/// The method as a label: the standard methods by name, anything else (a client may send any
/// token as a method) as `other`, so that no client can add label values without bound.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

#[derive(Default, Debug)]
pub struct Metrics {
    /// One lock per request, and no allocation once a route has been seen.
    routes: Mutex<HashMap<String, RouteStats>>,
    pub logins_succeeded: AtomicU64,
    pub logins_failed: AtomicU64,
    pub logins_throttled: AtomicU64,
    pub tokens_issued: AtomicU64,
    pub tokens_revoked: AtomicU64,
}

impl Metrics {
    /// Counts one response. Every label is bounded: `route` is a route template or
    /// `<unmatched>`, the method is folded by [`method_label`], and a status is three digits.
    pub fn record_request(&self, route: &str, method: &Method, status: u16, latency: Duration) {
        let secs = latency.as_secs_f64();
        let method = method_label(method);
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if !routes.contains_key(route) {
            routes.insert(route.to_owned(), RouteStats::default());
        }
        let stats = routes.get_mut(route).expect("inserted above");
        match stats
            .responses
            .iter_mut()
            .find(|(m, s, _)| *m == method && *s == status)
        {
            Some((_, _, n)) => *n += 1,
            None => stats.responses.push((method, status, 1)),
        }
        let h = &mut stats.latency;
        for (count, bound) in h.counts.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *count += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, pool: crate::store::PoolStats) -> String {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(out, "# HELP postbase_http_requests_total HTTP requests served, by route template, method and status.");
        let _ = writeln!(out, "# TYPE postbase_http_requests_total counter");
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        for route in &names {
            let mut responses = routes[*route].responses.clone();
            responses.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            for (method, status, n) in responses {
                let _ = writeln!(
                    out,
                    "postbase_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(out, "# HELP postbase_http_request_duration_seconds Time from request to response, by route template.");
        let _ = writeln!(
            out,
            "# TYPE postbase_http_request_duration_seconds histogram"
        );
        for route in &names {
            let h = &routes[*route].latency;
            let route = escape(route);
            for (count, bound) in h.counts.iter().zip(BUCKETS) {
                let _ = writeln!(out, "postbase_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(
                out,
                "postbase_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "postbase_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "postbase_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        drop(routes);
        let counters = [
            (
                "postbase_logins_total{result=\"succeeded\"}",
                &self.logins_succeeded,
                "postbase_logins_total",
                "Login attempts by result.",
            ),
            (
                "postbase_logins_total{result=\"failed\"}",
                &self.logins_failed,
                "",
                "",
            ),
            (
                "postbase_logins_total{result=\"throttled\"}",
                &self.logins_throttled,
                "",
                "",
            ),
            (
                "postbase_tokens_issued_total",
                &self.tokens_issued,
                "postbase_tokens_issued_total",
                "Tokens issued by logins.",
            ),
            (
                "postbase_tokens_revoked_total",
                &self.tokens_revoked,
                "postbase_tokens_revoked_total",
                "Tokens revoked by logouts.",
            ),
        ];
        for (series, value, family, help) in counters {
            if !family.is_empty() {
                let _ = writeln!(out, "# HELP {family} {help}");
                let _ = writeln!(out, "# TYPE {family} counter");
            }
            let _ = writeln!(out, "{series} {}", value.load(Ordering::Relaxed));
        }
        for (name, help, value) in [
            ("postbase_db_pool_size", "Database connections open.", pool.size),
            ("postbase_db_pool_in_use", "Database connections busy with a request.", pool.in_use),
            ("postbase_db_pool_waiting", "Requests waiting for a database connection (or, on SQLite, writes queued for the writer).", pool.waiting),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Prometheus metrics of this instance.
///
/// Off with `--metrics false`, or moved to an address of its own with `--metrics-addr` (then 404
/// here). Counted in this process: with several instances, scrape each.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format, version 0.0.4", body = String,
                content_type = "text/plain; version=0.0.4; charset=utf-8",
                headers(("Cache-Control" = String, description = "`no-store`: a scrape is a reading of now"))),
              (status = 404, description = "Metrics are turned off (`--metrics false`) or served on `--metrics-addr`", body = ErrorDoc)))]
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    if !state.metrics_enabled {
        return Err(ApiError::NotFound("Not found"));
    }
    Ok(exposition(&state))
}

/// The metrics router of `--metrics-addr`: `/metrics` and nothing else.
pub fn private_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(state): State<AppState>| async move { exposition(&state) }),
        )
        .with_state(state)
}

/// The realtime hub: streams open, events handed to them, streams closed for being too slow, and
/// how far behind the log the hub is (from an event's commit to its dispatch).
fn render_events(out: &mut String, hub: &crate::http::events::Hub) {
    let stats = &hub.stats;
    let lines: [(&str, &str, &str, String); 4] = [
        (
            "postbase_events_subscribers",
            "gauge",
            "Event streams open on this instance.",
            hub.subscribers().to_string(),
        ),
        (
            "postbase_events_delivered_total",
            "counter",
            "Events queued to streams.",
            stats.delivered.load(Ordering::Relaxed).to_string(),
        ),
        (
            "postbase_events_slow_closed_total",
            "counter",
            "Streams closed because their queue was full.",
            stats.closed_slow.load(Ordering::Relaxed).to_string(),
        ),
        (
            "postbase_events_lag_seconds",
            "gauge",
            "From commit to dispatch, for the last event dispatched.",
            format!("{}", stats.lag_micros.load(Ordering::Relaxed) as f64 / 1e6),
        ),
    ];
    for (name, kind, help, value) in lines {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name} {value}");
    }
    let _ = writeln!(
        out,
        "# HELP postbase_events_position The last event-log position this instance dispatched."
    );
    let _ = writeln!(out, "# TYPE postbase_events_position gauge");
    let _ = writeln!(
        out,
        "postbase_events_position {}",
        stats.position.load(Ordering::Relaxed)
    );
}

fn exposition(state: &AppState) -> impl IntoResponse {
    let mut body = state.metrics.render(state.store.pool_stats());
    render_events(&mut body, &state.hub);
    state
        .rate_limits
        .render_metrics(&mut body, state.throttle.is_shared());
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
}

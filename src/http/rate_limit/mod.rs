//! Per-client-IP request budgets (token buckets): one on the whole API, a tighter one on sign-up.
//! Both are off unless configured. The client is the peer address, or with `--trust-forwarded-for`
//! the last address in `X-Forwarded-For` (the one the load balancer in front of us appended).
//!
//! Where the buckets live: on PostgreSQL, in the database, one per budget and client for the
//! whole deployment, leased a few tokens at a time (`lease.rs`), so that a client spreading its
//! requests over N instances gets the budget once; on SQLite (one process), in memory
//! (`bucket.rs`).

mod bucket;
mod lease;

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

pub use bucket::RateLimiter;
pub use lease::LeasedLimiter;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::ApiError;

/// Most clients tracked at once; past this, idle ones are dropped.
const MAX_TRACKED: usize = 100_000;

/// `N/s`, `N/min` or `N/h`: N requests per period, with bursts of up to N.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_period: u32,
    pub period: Duration,
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (n, unit) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: expected N/s, N/min or N/h"))?;
        let per_period: u32 = n
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{s:?}: N must be a positive integer"))?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            other => return Err(format!("{s:?}: unknown period {other:?}; use s, min or h")),
        };
        Ok(Self { per_period, period })
    }
}

/// Who is asking: the peer, or the proxy's word for it when the proxy is trusted. Only the last
/// `X-Forwarded-For` entry is taken (the one our proxy appended; earlier ones are the client's own
/// claims). It may carry a port (`1.2.3.4:5555`, `[::1]:5555`); if it cannot be read at all, the
/// proxy's own address is used, never an earlier, spoofable entry.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    trust_forwarded: bool,
) -> Option<IpAddr> {
    if trust_forwarded {
        let last = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next());
        if let Some(ip) = last.and_then(parse_forwarded) {
            return Some(ip);
        }
    }
    peer
}

fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

/// The client's address as [`client_ip`] reads it, for handlers (the login throttle keys on it).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let ip = client_ip(&parts.headers, peer, state.rate_limits.trust_forwarded_for);
        Ok(Self(
            ip.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = &state.rate_limits;
    if limits.api.is_none() && limits.signup.is_none() {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let Some(ip) = client_ip(req.headers(), peer, limits.trust_forwarded_for) else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    let is_api = path.starts_with("/api/");
    let is_signup = path == "/api/users" && req.method() == Method::POST;
    let mut verdict = Ok(());
    if let Some(api) = limits.api.as_ref().filter(|_| is_api) {
        verdict = api.take(ip).await;
    }
    if let Some(signup) = limits
        .signup
        .as_ref()
        .filter(|_| is_signup && verdict.is_ok())
    {
        verdict = signup.take(ip).await;
    }
    match verdict {
        Ok(()) => next.run(req).await,
        Err(wait) => ApiError::TooManyRequests {
            message: "Too many requests; slow down",
            retry_after: wait,
        }
        .into_response(),
    }
}

/// One budget: counted in this process, or leased from the database for the deployment.
#[derive(Debug)]
pub enum Budget {
    Local(RateLimiter),
    Leased(LeasedLimiter),
}

impl Budget {
    /// A budget of `rate`, named `name` in the database when `store` keeps budgets for the
    /// deployment.
    pub fn new(name: &'static str, rate: Rate, store: &crate::store::DynStore) -> Self {
        if store.shared_budgets().is_some() {
            Self::Leased(LeasedLimiter::new(name, rate, store.clone()))
        } else {
            Self::Local(RateLimiter::new(rate))
        }
    }

    /// Takes one token for `client`, or says how long until one is available.
    pub async fn take(&self, client: IpAddr) -> Result<(), Duration> {
        match self {
            Self::Local(local) => local.take(client),
            Self::Leased(leased) => leased.take(client).await,
        }
    }
}

/// The budgets in force.
#[derive(Default, Debug)]
pub struct RateLimits {
    pub api: Option<Budget>,
    pub signup: Option<Budget>,
    pub trust_forwarded_for: bool,
}

impl RateLimits {
    /// `/metrics` lines on where the limits are counted and, for the budgets leased from the
    /// deployment, what the deployment-wide buckets said: the figures each decision was based on.
    pub fn render_metrics(&self, out: &mut String, login_shared: bool) {
        use std::fmt::Write as _;
        let _ = writeln!(out, "# HELP postbase_limits_shared Whether a limit is counted for the whole deployment (1, in the database) or per instance (0).");
        let _ = writeln!(out, "# TYPE postbase_limits_shared gauge");
        let _ = writeln!(
            out,
            "postbase_limits_shared{{limit=\"login\"}} {}",
            u8::from(login_shared)
        );
        let budgets = [("api", &self.api), ("signup", &self.signup)];
        for (name, budget) in budgets {
            if let Some(budget) = budget {
                let shared = u8::from(matches!(budget, Budget::Leased(_)));
                let _ = writeln!(out, "postbase_limits_shared{{limit=\"{name}\"}} {shared}");
            }
        }
        let leased: Vec<(&str, &LeasedLimiter)> = budgets
            .into_iter()
            .filter_map(|(name, budget)| match budget {
                Some(Budget::Leased(l)) => Some((name, l)),
                _ => None,
            })
            .collect();
        if leased.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP postbase_rate_leases_total Leases taken from the deployment-wide request budgets, by budget and whether they found tokens.");
        let _ = writeln!(out, "# TYPE postbase_rate_leases_total counter");
        for (name, l) in &leased {
            let (granted, empty, _) = l.stats();
            let _ = writeln!(
                out,
                "postbase_rate_leases_total{{budget=\"{name}\",result=\"granted\"}} {granted}"
            );
            let _ = writeln!(
                out,
                "postbase_rate_leases_total{{budget=\"{name}\",result=\"empty\"}} {empty}"
            );
        }
        let _ = writeln!(out, "# HELP postbase_rate_last_level Tokens the deployment-wide bucket held after this instance's last lease, by budget.");
        let _ = writeln!(out, "# TYPE postbase_rate_last_level gauge");
        for (name, l) in &leased {
            let (_, _, level) = l.stats();
            let _ = writeln!(out, "postbase_rate_last_level{{budget=\"{name}\"}} {level}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_from_n_per_period() {
        assert_eq!(
            "100/s".parse::<Rate>().unwrap(),
            Rate {
                per_period: 100,
                period: Duration::from_secs(1)
            }
        );
        assert_eq!(
            "10/min".parse::<Rate>().unwrap().period,
            Duration::from_secs(60)
        );
        for bad in ["", "10", "0/s", "-1/s", "x/s", "10/fortnight"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bucket_allows_a_burst_then_refuses_with_the_wait() {
        use super::bucket::RateLimiter;
        let limiter = RateLimiter::new("3/min".parse().unwrap());
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.take(ip).is_ok());
        }
        let wait = limiter.take(ip).unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            limiter.take("10.0.0.2".parse().unwrap()).is_ok(),
            "clients are separate"
        );
    }

    #[test]
    fn forwarded_for_is_used_only_when_trusted_and_its_last_entry_counts() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.1.1.1, 2.2.2.2".parse().unwrap());
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(client_ip(&h, Some(peer), false), Some(peer));
        assert_eq!(
            client_ip(&h, Some(peer), true),
            Some("2.2.2.2".parse().unwrap())
        );
        assert_eq!(client_ip(&HeaderMap::new(), Some(peer), true), Some(peer));
    }

    #[test]
    fn the_last_forwarded_entry_is_read_with_a_port_or_else_the_peer_is_used() {
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let read = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", v.parse().unwrap());
            client_ip(&h, Some(peer), true)
        };
        assert_eq!(
            read("9.9.9.9, 1.2.3.4:5555"),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(read("9.9.9.9, [::1]:5555"), Some("::1".parse().unwrap()));
        assert_eq!(
            read("9.9.9.9, unknown"),
            Some(peer),
            "never the earlier entry"
        );
        assert_eq!(read("9.9.9.9,"), Some(peer));
    }
}

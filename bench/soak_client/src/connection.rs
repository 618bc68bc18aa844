//! One connection's paced mixed load; the mix is described at the top of main.rs.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::http::{call, connect, Sender, PASSWORD};
use crate::stats::Shared;

/// Share of requests that are logins (`POST /api/tokens`): few, since each costs a password hash
/// of tens of milliseconds of a core by design, but enough that the hasher's memory use shows.
const LOGIN_SHARE: f64 = 0.003;

/// One connection's life: connect, then one request per tick until the deadline.
pub async fn connection(
    shared: Arc<Shared>,
    addr: SocketAddr,
    user: (Arc<str>, Arc<str>),
    interval: Duration,
    deadline: Instant,
    seed: u64,
) {
    let host = addr.to_string();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut own: Vec<i64> = Vec::new();
    let mut sender: Option<Sender> = None;
    // Spread the connections' ticks evenly over one interval.
    tokio::time::sleep(interval.mul_f64(rng.gen())).await;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut counted = false;
    while Instant::now() < deadline {
        ticks.tick().await;
        if sender.is_none() {
            let t = Instant::now();
            match connect(addr).await {
                Ok(s) => sender = Some(s),
                Err(e) => {
                    shared.record(t.elapsed(), Some(e));
                    continue;
                }
            }
            if !counted {
                shared.open.fetch_add(1, Ordering::Relaxed);
                counted = true;
            }
        }
        let s = sender.as_mut().unwrap();
        let roll = if rng.gen_bool(LOGIN_SHARE) {
            100
        } else {
            rng.gen_range(0..100)
        };
        let pick = |rng: &mut StdRng, own: &[i64]| own[rng.gen_range(0..own.len())];
        let (method, path, body, expect) = match roll {
            45..=64 if !own.is_empty() => (
                Method::GET,
                format!("/api/posts/{}", pick(&mut rng, &own)),
                None,
                StatusCode::OK,
            ),
            65..=74 => {
                let n: u32 = rng.gen();
                (
                    Method::POST,
                    "/api/posts".to_owned(),
                    Some(
                        json!({"title": format!("soak {n}"), "body": "x".repeat(rng.gen_range(0..512))}),
                    ),
                    StatusCode::CREATED,
                )
            }
            75..=81 if !own.is_empty() => (
                Method::PATCH,
                format!("/api/posts/{}", pick(&mut rng, &own)),
                Some(json!({"title": format!("edited {}", rng.gen::<u32>())})),
                StatusCode::OK,
            ),
            82..=85 if !own.is_empty() => {
                let i = rng.gen_range(0..own.len());
                let id = own.swap_remove(i);
                (
                    Method::DELETE,
                    format!("/api/posts/{id}"),
                    None,
                    StatusCode::NO_CONTENT,
                )
            }
            86..=93 => (Method::GET, "/api/profile".to_owned(), None, StatusCode::OK),
            100 => (
                Method::POST,
                "/api/tokens".to_owned(),
                Some(json!({"username": &*user.0, "password": PASSWORD})),
                StatusCode::CREATED,
            ),
            94..=99 => (
                Method::GET,
                "/api/users?limit=20".to_owned(),
                None,
                StatusCode::OK,
            ),
            _ => (
                Method::GET,
                "/api/posts?limit=20".to_owned(),
                None,
                StatusCode::OK,
            ),
        };
        let needs_token =
            (method != Method::GET || path == "/api/profile") && path != "/api/tokens";
        let label = format!(
            "{method} {}",
            path.split('/').take(3).collect::<Vec<_>>().join("/")
        );
        let t = Instant::now();
        let result = call(
            s,
            &host,
            method.clone(),
            &path,
            needs_token.then_some(&*user.1),
            body,
        )
        .await;
        let latency = t.elapsed();
        match result {
            Ok((status, json)) if status == expect => {
                if method == Method::POST {
                    if let Some(id) = json["id"].as_i64() {
                        own.push(id);
                    }
                }
                shared.record(latency, None);
            }
            Ok((status, _)) => shared.record(latency, Some(format!("{label} -> {status}"))),
            Err(e) => {
                shared.record(latency, Some(format!("{label}: {e}")));
                sender = None;
            }
        }
    }
    if counted {
        shared.open.fetch_sub(1, Ordering::Relaxed);
    }
}

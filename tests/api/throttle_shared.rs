//! The login throttle across instances (PostgreSQL): guesses spread over two or three instances
//! on one database get no more password checks than one instance would allow, and the owner,
//! from another address, still logs in.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{postgres_only, Backend, PASSWORD};
use crate::instance::Instance;
use crate::test_db::TestDb;

/// The default `--login-max-failures`: failures on one account from one address before a lock.
const BUDGET: usize = 5;

fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().ok())
        .build()
        .unwrap()
}

/// A wave of 300 wrong passwords and the right one, round-robin over `n` instances at once.
async fn wave_over(n: usize, backend: &Backend) {
    let db = TestDb::new(backend).await;
    let mut instances = Vec::new();
    for _ in 0..n {
        instances.push(Instance::start(&db.url, &[]).await);
    }
    assert_eq!(instances[0].signup("kate").await.status(), 201);
    let attacker = client_from("127.0.0.1");
    let attempts = (0..=300).map(|i| {
        let password = if i == 150 {
            PASSWORD.to_owned()
        } else {
            format!("wrong password {i}")
        };
        let url = format!("{}/api/tokens", instances[i % n].base);
        let client = attacker.clone();
        async move {
            client
                .post(url)
                .json(&json!({"username": "kate", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = join_all(attempts).await;
    let checked = statuses
        .iter()
        .filter(|s| matches!(**s, StatusCode::UNAUTHORIZED | StatusCode::CREATED))
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + throttled, 301, "{statuses:?}");
    assert!(
        checked <= BUDGET,
        "{n} instances started {checked} checks; one instance allows {BUDGET}"
    );
    assert!(checked >= 1, "the budget is not zero");
    // The owner, from another address, logs in on every instance meanwhile.
    let owner = client_from("127.0.0.2");
    for instance in &instances {
        let res = owner
            .request(Method::POST, format!("{}/api/tokens", instance.base))
            .json(&json!({"username": "kate", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "the owner on {}", instance.base);
    }
    // Locked for the attacker's address on every instance, not just the one that counted.
    for instance in &instances {
        let res = attacker
            .post(format!("{}/api/tokens", instance.base))
            .json(&json!({"username": "kate", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429, "the locked address on {}", instance.base);
        assert!(res.headers().contains_key("retry-after"));
    }
}

postgres_only!(a_wave_over_two_instances_gets_one_instances_budget);
async fn a_wave_over_two_instances_gets_one_instances_budget(backend: Backend) {
    wave_over(2, &backend).await;
}

postgres_only!(a_wave_over_three_instances_gets_one_instances_budget);
async fn a_wave_over_three_instances_gets_one_instances_budget(backend: Backend) {
    wave_over(3, &backend).await;
}

postgres_only!(a_success_on_one_instance_clears_the_record_on_all);
async fn a_success_on_one_instance_clears_the_record_on_all(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let (a, b) = (
        Instance::start(&db.url, &[]).await,
        Instance::start(&db.url, &[]).await,
    );
    assert_eq!(a.signup("kate").await.status(), 201);
    let login = |base: &str, password: &str| {
        let request = client_from("127.0.0.1")
            .post(format!("{base}/api/tokens"))
            .json(&json!({"username": "kate", "password": password}));
        async move { request.send().await.unwrap().status() }
    };
    // Four failures (one short of the lock) alternating over both, then the owner on `a`...
    for i in 0..BUDGET - 1 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        assert_eq!(login(base, "wrong password").await, 401);
    }
    assert_eq!(login(&a.base, PASSWORD).await, 201);
    // ...clears the address's record everywhere: `b` allows a full budget again.
    for _ in 0..BUDGET - 1 {
        assert_eq!(login(&b.base, "wrong password").await, 401);
    }
    assert_eq!(login(&b.base, PASSWORD).await, 201);
}

//! Request budgets across instances (PostgreSQL): a client alternating between two or three
//! instances gets the budget once, not once per instance; an instance killed with -9 does not keep
//! the budget it held.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use tokio::time::Instant;

use crate::helpers::{postgres_only, Backend};
use crate::instance::Instance;
use crate::test_db::TestDb;

/// `--rate-limit 20/s`: 20 a second, bursts of 20.
const RATE: f64 = 20.0;
const RUN: Duration = Duration::from_secs(10);

/// Requests from 4 workers (each up to 100 a second), round-robin over the live instances, for `RUN`; `kill` (at, index)
/// kills that instance with -9 `at` into the run. Every answer's time and status.
async fn alternate(
    instances: Vec<Instance>,
    kill: Option<(Duration, usize)>,
) -> Vec<(Duration, StatusCode)> {
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
    let instances = Arc::new(Mutex::new(
        instances.into_iter().map(Some).collect::<Vec<_>>(),
    ));
    let live = Arc::new(Mutex::new((0..bases.len()).collect::<Vec<_>>()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    if let Some((at, index)) = kill {
        let (instances, live) = (instances.clone(), live.clone());
        tokio::spawn(async move {
            tokio::time::sleep(at).await;
            live.lock().unwrap().retain(|i| *i != index);
            // Dropping an `Instance` kills it with SIGKILL.
            drop(instances.lock().unwrap()[index].take());
        });
    }
    let workers = (0..4).map(|w| {
        let (bases, live, seen) = (bases.clone(), live.clone(), seen.clone());
        async move {
            let client = reqwest::Client::new();
            let mut n = w;
            while start.elapsed() < RUN {
                let target = {
                    let live = live.lock().unwrap();
                    live[n % live.len()]
                };
                n += 1;
                let url = format!("{}/api/posts?limit=1", bases[target]);
                if let Ok(res) = client.get(url).send().await {
                    seen.lock().unwrap().push((start.elapsed(), res.status()));
                }
                // Paced: 4 × 100 a second is far over the budget, and leaves the CPU to the
                // tests running beside this one.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    join_all(workers).await;
    let seen = seen.lock().unwrap().clone();
    seen
}

fn admitted(seen: &[(Duration, StatusCode)], from: Duration, to: Duration) -> usize {
    seen.iter()
        .filter(|(t, s)| *t >= from && *t < to && *s != StatusCode::TOO_MANY_REQUESTS)
        .count()
}

async fn instances(db: &TestDb, n: usize) -> Vec<Instance> {
    let mut all = Vec::new();
    for _ in 0..n {
        all.push(Instance::start(&db.url, &["--rate-limit", "20/s"]).await);
    }
    all
}

async fn budget_once_over(n: usize, backend: &Backend) {
    let db = TestDb::new(backend).await;
    let all = instances(&db, n).await;
    let metrics = all[0].get("/metrics").await.text().await.unwrap();
    for line in [
        "postbase_limits_shared{limit=\"login\"} 1",
        "postbase_limits_shared{limit=\"api\"} 1",
        "postbase_rate_leases_total{budget=\"api\",result=\"granted\"}",
        "postbase_rate_last_level{budget=\"api\"}",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    let seen = alternate(all, None).await;
    let ok = admitted(&seen, Duration::ZERO, RUN);
    let ceiling = (1.2 * RATE * RUN.as_secs_f64()) as usize + RATE as usize;
    assert!(
        ok <= ceiling,
        "{n} instances let {ok} of {} requests through; the budget allows {ceiling}",
        seen.len()
    );
    // And it is a budget, not a wall: most of it is served.
    assert!(
        ok as f64 >= 0.7 * RATE * RUN.as_secs_f64(),
        "only {ok} served"
    );
    assert!(
        seen.iter()
            .all(|(_, s)| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS),
        "only 200 and 429"
    );
}

postgres_only!(a_client_alternating_over_two_instances_gets_the_budget_once);
async fn a_client_alternating_over_two_instances_gets_the_budget_once(backend: Backend) {
    budget_once_over(2, &backend).await;
}

postgres_only!(a_client_alternating_over_three_instances_gets_the_budget_once);
async fn a_client_alternating_over_three_instances_gets_the_budget_once(backend: Backend) {
    budget_once_over(3, &backend).await;
}

postgres_only!(an_instance_killed_mid_run_does_not_keep_its_share);
async fn an_instance_killed_mid_run_does_not_keep_its_share(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let kill_at = Duration::from_secs(3);
    let seen = alternate(instances(&db, 3).await, Some((kill_at, 2))).await;
    // Within 5 s of the kill, the survivors serve the whole rate again, and no more.
    let (from, to) = (kill_at + Duration::from_secs(2), RUN);
    let ok = admitted(&seen, from, to) as f64;
    let expected = RATE * (to - from).as_secs_f64();
    assert!(
        ok >= 0.7 * expected && ok <= 1.2 * expected,
        "{ok} served from {from:?} to {to:?}; the budget is {expected}"
    );
}

postgres_only!(the_signup_budget_is_the_deployments_too);
async fn the_signup_budget_is_the_deployments_too(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let mut all = Vec::new();
    for _ in 0..2 {
        all.push(Instance::start(&db.url, &["--signup-limit", "4/min"]).await);
    }
    // Ten sign-ups alternating over both instances: 4 a minute for the deployment, not per instance.
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(all[i % 2].signup(&format!("user{i}")).await.status());
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(created, 4, "{statuses:?}");
    assert_eq!(refused, 6, "{statuses:?}");
}

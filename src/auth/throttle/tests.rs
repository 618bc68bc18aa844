//! The in-memory throttle's rules (the shared one's are tested across instances in
//! `tests/api/throttle_shared.rs`).

use super::*;

const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
const AWAY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

fn throttle(lockout_ms: u64, account_max: u32) -> LoginThrottle {
    LoginThrottle::new(
        ThrottleConfig {
            max_failures: 3,
            account_max_failures: account_max,
            window: Duration::from_secs(60),
            lockout: Duration::from_millis(lockout_ms),
        },
        None,
    )
}

fn fail(t: &LoginThrottle, account: &str, ip: IpAddr) {
    t.begin_local(account, ip)
        .expect("admitted")
        .settle_local(true);
}

#[test]
fn a_pair_locks_after_the_maximum_failures_and_only_that_pair() {
    let t = throttle(10_000, 100);
    fail(&t, "alice", HOME);
    fail(&t, "alice", HOME);
    assert!(t.begin_local("alice", HOME).is_ok());
    assert!(
        t.begin_local("alice", HOME).is_err(),
        "locked after the third"
    );
    assert!(t.begin_local("bob", HOME).is_ok(), "other accounts are not");
    assert!(
        t.begin_local("alice", AWAY).is_ok(),
        "other addresses are not"
    );
}

#[test]
fn attempts_in_flight_take_the_budget_before_they_fail() {
    let t = throttle(10_000, 100);
    let started: Vec<_> = (0..1000)
        .filter_map(|_| t.begin_local("alice", HOME).ok())
        .collect();
    assert_eq!(
        started.len(),
        3,
        "only the budget starts, however many arrive"
    );
    let wait = t.begin_local("alice", HOME).unwrap_err();
    assert!(wait >= Duration::from_millis(900), "{wait:?}");
    drop(started);
    assert!(
        t.begin_local("alice", HOME).is_err(),
        "abandoned attempts count as failures"
    );
}

#[test]
fn the_account_ceiling_holds_across_addresses() {
    let t = throttle(10_000, 4);
    for i in 0..4u8 {
        fail(&t, "alice", IpAddr::V4([10, 1, 0, i].into()));
    }
    assert!(t
        .begin_local("alice", IpAddr::V4([10, 2, 0, 0].into()))
        .is_err());
    assert!(t.begin_local("bob", HOME).is_ok());
}

#[test]
fn locks_end_and_grow_with_each_further_failure() {
    let t = throttle(30, 100);
    for _ in 0..3 {
        fail(&t, "alice", HOME);
    }
    let first = t.begin_local("alice", HOME).unwrap_err();
    std::thread::sleep(Duration::from_millis(40));
    let one = t.begin_local("alice", HOME).expect("a lock ends");
    assert!(t.begin_local("alice", HOME).is_err(), "then one at a time");
    one.settle_local(true);
    let second = t.begin_local("alice", HOME).unwrap_err();
    assert!(second > first, "{second:?} should exceed {first:?}");
}

#[test]
fn success_clears_the_pair_record() {
    let t = throttle(10_000, 100);
    fail(&t, "alice", HOME);
    fail(&t, "alice", HOME);
    t.begin_local("alice", HOME).unwrap().settle_local(false);
    fail(&t, "alice", HOME);
    fail(&t, "alice", HOME);
    assert!(t.begin_local("alice", HOME).is_ok());
}

#[test]
fn zero_maximum_turns_it_off() {
    let t = LoginThrottle::new(
        ThrottleConfig {
            max_failures: 0,
            account_max_failures: 0,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(60),
        },
        None,
    );
    for _ in 0..100 {
        fail(&t, "alice", HOME);
    }
    assert!(t.begin_local("alice", HOME).is_ok());
}

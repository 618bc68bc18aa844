//! The hub's queues and limits, without HTTP.

use super::*;
use crate::http::events::filter::{COMMENTS, LIKES, POSTS};
use crate::store::{sqlite::SqliteStore, SqliteSynchronous};

fn hub(buffer: usize, max_subscribers: usize, max_per_ip: usize) -> (Arc<Hub>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("h.db"), SqliteSynchronous::Normal).unwrap();
    let config = HubConfig {
        retention: Duration::from_secs(3600),
        max_subscribers,
        max_per_ip,
        buffer,
    };
    (Hub::new(Arc::new(store), config), dir)
}

fn frame(position: i64) -> Frame {
    Frame {
        position,
        topic: POSTS,
        post_id: Some(1),
        author_id: Some(1),
        created_at: Timestamp::now(),
        bytes: Bytes::from(format!("id: {position}\n\n")),
        follow: None,
    }
}

const ALL: Filter = Filter {
    topics: POSTS | COMMENTS | LIKES,
    post: None,
    author: None,
    user: None,
};

/// A stream that lets its queue fill is closed after what it holds; the one that keeps up
/// gets everything and stays.
#[tokio::test]
async fn a_full_queue_closes_its_own_stream_and_no_other() {
    let (hub, _dir) = hub(2, 10, 10);
    let mut slow = hub.subscribe(ALL, HashSet::new(), None).unwrap();
    let mut fast = hub.subscribe(ALL, HashSet::new(), None).unwrap();
    let mut got = Vec::new();
    for position in 1..=5 {
        hub.dispatch(&frame(position));
        got.push(fast.rx.try_recv().unwrap().0);
    }
    assert_eq!(got, [1, 2, 3, 4, 5]);
    assert_eq!(slow.rx.recv().await.unwrap().0, 1);
    assert_eq!(slow.rx.recv().await.unwrap().0, 2);
    assert!(slow.rx.recv().await.is_none(), "closed once full");
    assert_eq!(hub.stats.closed_slow.load(Ordering::Relaxed), 1);
    assert_eq!(hub.subscribers(), 1);
}

#[tokio::test]
async fn streams_are_limited_in_all_and_per_address_and_freed_on_drop() {
    let (hub, _dir) = hub(8, 3, 2);
    let a: IpAddr = "10.0.0.1".parse().unwrap();
    let b: IpAddr = "10.0.0.2".parse().unwrap();
    let first = hub.subscribe(ALL, HashSet::new(), Some(a)).unwrap();
    let _second = hub.subscribe(ALL, HashSet::new(), Some(a)).unwrap();
    assert_eq!(
        hub.subscribe(ALL, HashSet::new(), Some(a)).err(),
        Some(Refused::AddressFull)
    );
    let _third = hub.subscribe(ALL, HashSet::new(), Some(b)).unwrap();
    assert_eq!(
        hub.subscribe(ALL, HashSet::new(), Some(b)).err(),
        Some(Refused::Full)
    );
    drop(first);
    assert!(
        hub.subscribe(ALL, HashSet::new(), Some(a)).is_ok(),
        "a closed stream frees its place"
    );
    hub.shutdown();
    assert_eq!(
        hub.subscribe(ALL, HashSet::new(), None).err(),
        Some(Refused::ShuttingDown)
    );
}

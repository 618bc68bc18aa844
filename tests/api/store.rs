//! The store conformance suite: each store trait's behaviour, called directly (no HTTP), once per
//! backend through `backends!`. A third backend would be one more arm of `Backend`.

use postbase::domain::Timestamp;
use postbase::store::{
    self, Change, ChangeEvent, DynStore, NewPost, NewUser, PageQuery, PostChanges, PostFilter,
    StoreError, UserChanges,
};

use crate::helpers::{backends, Backend};
use crate::test_db::TestDb;

pub(crate) async fn open(backend: &Backend) -> (TestDb, DynStore) {
    let db = TestDb::new(backend).await;
    let store = store::connect(&db.url).await.unwrap();
    (db, store)
}

pub(crate) async fn user(store: &DynStore, name: &str) -> i64 {
    let new = NewUser {
        username: name.into(),
        email: None,
        password_hash: "not a hash: never checked here".into(),
        admin: false,
    };
    store.create_user(new, Timestamp::now()).await.unwrap().id
}

pub(crate) async fn post(store: &DynStore, author_id: i64, title: &str, tags: &[&str]) -> i64 {
    let new = NewPost {
        author_id,
        title: title.into(),
        body: String::new(),
        summary: String::new(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    };
    store.create_post(new, Timestamp::now()).await.unwrap().id
}

pub(crate) fn page(after: Option<i64>, limit: u32) -> PageQuery {
    PageQuery { after, limit }
}

pub(crate) async fn titles(
    store: &DynStore,
    filter: PostFilter,
    after: Option<i64>,
) -> Vec<String> {
    let rows = store
        .list_posts(filter, None, page(after, 100))
        .await
        .unwrap();
    rows.into_iter().map(|p| p.title).collect()
}

backends!(posts_page_newest_first_and_every_filter_combines);
async fn posts_page_newest_first_and_every_filter_combines(backend: Backend) {
    let (_db, store) = open(&backend).await;
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let p1 = post(&store, a, "a1", &["x"]).await;
    let p2 = post(&store, b, "b1", &["x", "y"]).await;
    let p3 = post(&store, a, "a2", &["y"]).await;
    let p4 = post(&store, b, "b2", &[]).await;
    store.like(p1, b, Timestamp::now()).await.unwrap();
    store.like(p3, b, Timestamp::now()).await.unwrap();
    store.like(p2, a, Timestamp::now()).await.unwrap();
    let all = PostFilter::default();
    assert_eq!(
        titles(&store, all.clone(), None).await,
        ["b2", "a2", "b1", "a1"]
    );
    assert_eq!(titles(&store, all, Some(p3)).await, ["b1", "a1"]);
    let tag = |t: &str| PostFilter {
        tag: Some(t.into()),
        ..PostFilter::default()
    };
    assert_eq!(titles(&store, tag("x"), None).await, ["b1", "a1"]);
    assert_eq!(titles(&store, tag("x"), Some(p2)).await, ["a1"]);
    let liked_by_b = PostFilter {
        liked_by: Some(b),
        ..PostFilter::default()
    };
    assert_eq!(titles(&store, liked_by_b.clone(), None).await, ["a2", "a1"]);
    let combined = PostFilter {
        tag: Some("y".into()),
        author: Some(a),
        liked_by: Some(b),
        ..PostFilter::default()
    };
    assert_eq!(titles(&store, combined, None).await, ["a2"]);
    let by_b = PostFilter {
        author: Some(b),
        ..PostFilter::default()
    };
    assert_eq!(titles(&store, by_b, None).await, ["b2", "b1"]);
    // `liked` is set for a viewer, and only then.
    let seen = store.post(p1, Some(b)).await.unwrap().unwrap();
    assert_eq!((seen.liked, seen.like_count), (Some(true), 1));
    assert_eq!(
        store.post(p1, Some(a)).await.unwrap().unwrap().liked,
        Some(false)
    );
    assert_eq!(store.post(p1, None).await.unwrap().unwrap().liked, None);
    let limited = store
        .list_posts(PostFilter::default(), Some(b), page(None, 2))
        .await
        .unwrap();
    assert_eq!(limited.iter().map(|p| p.id).collect::<Vec<_>>(), [p4, p3]);
    assert_eq!(limited[1].liked, Some(true));
}

backends!(conditional_writes_tell_a_missing_row_from_a_stale_version);
async fn conditional_writes_tell_a_missing_row_from_a_stale_version(backend: Backend) {
    let (_db, store) = open(&backend).await;
    let a = user(&store, "alice").await;
    let p = post(&store, a, "t", &[]).await;
    let now = Timestamp::now();
    let title = |t: &str| PostChanges {
        title: Some(t.into()),
        ..PostChanges::default()
    };
    let done = store
        .update_post(p, title("t2"), Some(1), None, now)
        .await
        .unwrap();
    assert!(matches!(done, Change::Done(ref post) if post.version == 2 && post.title == "t2"));
    let stale = store
        .update_post(p, title("t3"), Some(1), None, now)
        .await
        .unwrap();
    assert_eq!(stale, Change::VersionMismatch);
    let missing = store
        .update_post(999, title("t3"), None, None, now)
        .await
        .unwrap();
    assert_eq!(missing, Change::NotFound);
    assert_eq!(
        store.delete_post(p, Some(1)).await.unwrap(),
        Change::VersionMismatch
    );
    let c = store
        .create_comment(p, a, "c".into(), now)
        .await
        .unwrap()
        .unwrap();
    let edit = store
        .update_comment(c.id, "c2".into(), Some(2), now)
        .await
        .unwrap();
    assert_eq!(edit, Change::VersionMismatch);
    let edit = store
        .update_comment(c.id, "c2".into(), Some(1), now)
        .await
        .unwrap();
    assert!(matches!(edit, Change::Done(ref c) if c.version == 2 && c.body == "c2"));
    let email = UserChanges {
        email: Some(Some("a@example.com".into())),
        ..UserChanges::default()
    };
    let stale = store.update_user(a, email.clone(), Some(7)).await.unwrap();
    assert_eq!(stale, Change::VersionMismatch);
    let done = store.update_user(a, email, Some(1)).await.unwrap();
    assert!(matches!(done, Change::Done(ref u) if u.version == 2));
    assert_eq!(
        store.delete_user(999, None).await.unwrap(),
        Change::NotFound
    );
}

backends!(constraints_map_to_the_same_errors_and_missing_parents_to_none);
async fn constraints_map_to_the_same_errors_and_missing_parents_to_none(backend: Backend) {
    let (_db, store) = open(&backend).await;
    let a = user(&store, "alice").await;
    let twin = NewUser {
        username: "ALICE".into(),
        email: None,
        password_hash: "x".into(),
        admin: false,
    };
    let err = store.create_user(twin, Timestamp::now()).await.unwrap_err();
    assert!(matches!(err, StoreError::UsernameTaken), "{err:?}");
    let now = Timestamp::now();
    assert_eq!(
        store.create_comment(999, a, "c".into(), now).await.unwrap(),
        None
    );
    assert_eq!(store.like(999, a, now).await.unwrap(), None);
    assert_eq!(store.unlike(999, a).await.unwrap(), None);
    assert_eq!(
        store.list_comments(999, page(None, 10)).await.unwrap(),
        None
    );
    // A post by a user who is gone: the reference error, not "username taken".
    let orphan = NewPost {
        author_id: 999,
        title: "t".into(),
        body: String::new(),
        summary: String::new(),
        tags: Vec::new(),
    };
    let err = store.create_post(orphan, now).await.unwrap_err();
    assert!(matches!(err, StoreError::ReferenceGone), "{err:?}");
}

backends!(deletes_cascade_and_every_count_follows);
async fn deletes_cascade_and_every_count_follows(backend: Backend) {
    let (_db, store) = open(&backend).await;
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let now = Timestamp::now();
    let kept = post(&store, a, "kept", &["x"]).await;
    let gone = post(&store, b, "gone", &["x", "y"]).await;
    store.like(kept, b, now).await.unwrap();
    store.like(kept, a, now).await.unwrap();
    store.like(kept, a, now).await.unwrap();
    store
        .create_comment(kept, b, "by b".into(), now)
        .await
        .unwrap();
    store
        .create_comment(kept, a, "by a".into(), now)
        .await
        .unwrap();
    store
        .create_comment(gone, a, "on gone".into(), now)
        .await
        .unwrap();
    let counts = |p: &postbase::store::Post| (p.like_count, p.comment_count);
    assert_eq!(
        counts(&store.post(kept, None).await.unwrap().unwrap()),
        (2, 2)
    );
    let tags = store.popular_tags(10).await.unwrap();
    let tags: Vec<(String, i64)> = tags.into_iter().map(|t| (t.name, t.count)).collect();
    assert_eq!(tags, [("x".into(), 2), ("y".into(), 1)]);
    assert_eq!(store.delete_user(b, None).await.unwrap(), Change::Done(()));
    assert_eq!(store.post(gone, None).await.unwrap(), None);
    assert_eq!(
        counts(&store.post(kept, None).await.unwrap().unwrap()),
        (1, 1)
    );
    let tags = store.popular_tags(10).await.unwrap();
    let tags: Vec<(String, i64)> = tags.into_iter().map(|t| (t.name, t.count)).collect();
    assert_eq!(tags, [("x".into(), 1)]);
    let comments = store
        .list_comments(kept, page(None, 10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "by a");
}

backends!(committed_changes_are_published_in_order_and_failed_ones_not_at_all);
async fn committed_changes_are_published_in_order_and_failed_ones_not_at_all(backend: Backend) {
    let (_db, store) = open(&backend).await;
    let mut events = store.events().subscribe();
    let a = user(&store, "alice").await;
    let p = post(&store, a, "t", &["x"]).await;
    let now = Timestamp::now();
    store.like(p, a, now).await.unwrap();
    // A second like changes nothing and publishes nothing; nor does a refused write.
    store.like(p, a, now).await.unwrap();
    let twin = NewUser {
        username: "Alice".into(),
        email: None,
        password_hash: "x".into(),
        admin: false,
    };
    assert!(store.create_user(twin, now).await.is_err());
    let c = store
        .create_comment(p, a, "c".into(), now)
        .await
        .unwrap()
        .unwrap();
    store.delete_comment(c.id, None).await.unwrap();
    store.delete_post(p, Some(99)).await.unwrap();
    store.delete_post(p, None).await.unwrap();
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(match event {
            ChangeEvent::UserCreated { id } => format!("user+{id}"),
            ChangeEvent::PostCreated(post) => format!("post+{} {:?}", post.id, post.tags),
            ChangeEvent::PostLiked { post, liked, .. } => {
                format!("like {} {liked} {}", post.id, post.like_count)
            }
            ChangeEvent::CommentCreated(c) => format!("comment+{}", c.id),
            ChangeEvent::CommentDeleted { id, .. } => format!("comment-{id}"),
            ChangeEvent::PostDeleted { id, .. } => format!("post-{id}"),
            other => format!("{other:?}"),
        });
    }
    assert_eq!(
        seen,
        [
            format!("user+{a}"),
            format!("post+{p} [\"x\"]"),
            format!("like {p} true 1"),
            format!("comment+{}", c.id),
            format!("comment-{}", c.id),
            format!("post-{p}"),
        ]
    );
}

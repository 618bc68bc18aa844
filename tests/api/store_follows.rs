//! The store conformance suite, continued: follows, the counts and the feed they keep, and search,
//! called directly on each backend.

use postbase::domain::{SearchQuery, Timestamp};
use postbase::store::{Change, ChangeEvent, PostChanges, PostFilter};

use crate::helpers::{backends, Backend};
use crate::store::{open, page, post, titles, user};

fn feed_of(id: i64) -> PostFilter {
    PostFilter {
        feed_of: Some(id),
        ..PostFilter::default()
    }
}

backends!(follows_keep_counts_and_the_feed_through_posts_edits_and_deletes);
async fn follows_keep_counts_and_the_feed_through_posts_edits_and_deletes(backend: Backend) {
    let (_db, store) = open(&backend).await;
    let (a, b, c) = (
        user(&store, "alice").await,
        user(&store, "bob").await,
        user(&store, "carol").await,
    );
    let now = Timestamp::now();
    let early = post(&store, b, "b early", &[]).await;
    // A follow brings the earlier posts; later ones arrive; following twice is one follow.
    let seen = store.follow(a, b, now).await.unwrap().unwrap();
    assert_eq!((seen.following, seen.follower_count), (Some(true), 1));
    store.follow(a, b, now).await.unwrap();
    store.follow(a, c, now).await.unwrap();
    post(&store, c, "c one", &["x"]).await;
    post(&store, b, "b two", &[]).await;
    assert_eq!(
        titles(&store, feed_of(a), None).await,
        ["b two", "c one", "b early"]
    );
    assert_eq!(titles(&store, feed_of(b), None).await, Vec::<String>::new());
    let me = store.user(a, Some(a)).await.unwrap().unwrap();
    assert_eq!((me.following_count, me.follower_count), (2, 0));
    assert_eq!(store.user(b, None).await.unwrap().unwrap().post_count, 2);
    // The feed combines with the other filters and pages by post id.
    let tagged = PostFilter {
        tag: Some("x".into()),
        ..feed_of(a)
    };
    assert_eq!(titles(&store, tagged, None).await, ["c one"]);
    assert_eq!(
        titles(&store, feed_of(a), Some(early + 1)).await,
        ["b early"]
    );
    // A deleted post leaves every feed; an unfollow takes that user's posts out.
    assert_eq!(
        store.delete_post(early, None).await.unwrap(),
        Change::Done(())
    );
    assert_eq!(titles(&store, feed_of(a), None).await, ["b two", "c one"]);
    let seen = store.unfollow(a, b).await.unwrap().unwrap();
    assert_eq!((seen.following, seen.follower_count), (Some(false), 0));
    assert_eq!(titles(&store, feed_of(a), None).await, ["c one"]);
    // Lists: newest follow first, with the follow's id as the cursor.
    store.follow(b, c, now).await.unwrap();
    let followers = store.followers(c, Some(a), page(None, 10)).await.unwrap();
    let names: Vec<_> = followers.iter().map(|f| f.user.username.as_str()).collect();
    assert_eq!(names, ["bob", "alice"]);
    assert_eq!(followers[0].user.following, Some(false));
    let older = store
        .followers(c, None, page(Some(followers[0].id), 10))
        .await
        .unwrap();
    assert_eq!(older.len(), 1);
    // A deleted user's follows go, with the counts of those they touched.
    assert_eq!(store.delete_user(c, None).await.unwrap(), Change::Done(()));
    let me = store.user(a, None).await.unwrap().unwrap();
    assert_eq!(me.following_count, 0);
    assert_eq!(titles(&store, feed_of(a), None).await, Vec::<String>::new());
    assert!(store
        .following(b, None, page(None, 10))
        .await
        .unwrap()
        .is_empty());
    // Nobody to follow: None, and nothing published for it.
    assert_eq!(store.follow(a, 999_999, now).await.unwrap(), None);
}

backends!(follows_publish_once_per_change);
async fn follows_publish_once_per_change(backend: Backend) {
    let (_db, store) = open(&backend).await;
    let (a, b) = (user(&store, "alice").await, user(&store, "bob").await);
    let mut events = store.events().subscribe();
    let now = Timestamp::now();
    store.follow(a, b, now).await.unwrap();
    store.follow(a, b, now).await.unwrap();
    store.unfollow(a, b).await.unwrap();
    store.unfollow(a, b).await.unwrap();
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let ChangeEvent::UserFollowed {
            follower_id,
            followee_id,
            following,
            follower_count,
        } = event
        {
            seen.push((follower_id, followee_id, following, follower_count));
        }
    }
    assert_eq!(seen, [(a, b, true, 1), (a, b, false, 0)]);
}

backends!(search_follows_inserts_edits_and_deletes);
async fn search_follows_inserts_edits_and_deletes(backend: Backend) {
    let (_db, store) = open(&backend).await;
    let a = user(&store, "alice").await;
    let p = post(&store, a, "Zebra crossing", &["x"]).await;
    post(&store, a, "Zebras at night", &[]).await;
    let search = |q: &str| PostFilter {
        search: SearchQuery::parse(q).unwrap(),
        ..PostFilter::default()
    };
    assert_eq!(
        titles(&store, search("zebra"), None).await,
        ["Zebras at night", "Zebra crossing"]
    );
    assert_eq!(
        titles(&store, search("zebra cross"), None).await,
        ["Zebra crossing"]
    );
    let tagged = PostFilter {
        tag: Some("x".into()),
        ..search("zebra")
    };
    assert_eq!(titles(&store, tagged, None).await, ["Zebra crossing"]);
    let changes = PostChanges {
        title: Some("Giraffe".into()),
        ..PostChanges::default()
    };
    let now = Timestamp::now();
    store
        .update_post(p, changes, None, None, now)
        .await
        .unwrap();
    assert_eq!(
        titles(&store, search("zebra"), None).await,
        ["Zebras at night"]
    );
    assert_eq!(titles(&store, search("giraffe"), None).await, ["Giraffe"]);
    // A tags-only edit keeps the words found.
    let changes = PostChanges {
        tags: Some(vec!["y".into()]),
        ..PostChanges::default()
    };
    store
        .update_post(p, changes, None, None, now)
        .await
        .unwrap();
    assert_eq!(titles(&store, search("giraffe"), None).await, ["Giraffe"]);
    store.delete_user(a, None).await.unwrap();
    assert_eq!(
        titles(&store, search("zebra"), None).await,
        Vec::<String>::new()
    );
}

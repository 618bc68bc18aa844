//! The checker's rules, record by record.

use super::*;

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                    Kx9d1wZeTUdbeN8w9t2z1DY2nCHPl0t16K1+e9R3hoE";
const NOW: i64 = 1_764_072_000_000_000;

fn user(id: i64, username: &str) -> UserRecord {
    UserRecord {
        id,
        username: username.into(),
        email: None,
        password_hash: HASH.into(),
        admin: false,
        bio: String::new(),
        image: None,
        version: 1,
        created_at: NOW - 10,
        updated_at: NOW,
    }
}

fn post(id: i64, author_id: i64) -> PostRecord {
    PostRecord {
        id,
        author_id,
        title: "t".into(),
        body: String::new(),
        tags: Vec::new(),
        version: 1,
        created_at: NOW,
        updated_at: NOW,
        summary: String::new(),
    }
}

fn refused(result: Result<(), String>, expected: &str) {
    let err = result.expect_err(expected);
    assert!(err.contains(expected), "{err:?} should say {expected:?}");
}

#[test]
fn users_follow_the_api_rules_and_are_unique_by_id_and_by_username_in_any_case() {
    let mut check = Checker::new(Timestamp(NOW));
    check.user(2, &user(1, "alice")).unwrap();
    refused(
        check.user(3, &user(1, "bob")),
        "user 1: id: already used on line 2",
    );
    refused(check.user(3, &user(2, "ALICE")), "is taken by user 1");
    refused(
        check.user(3, &user(2, "has space")),
        "user 2: username: may contain only",
    );
    refused(check.user(3, &user(2, &"x".repeat(5000))), "must be 3-32");
    let mut bad = user(2, "bob");
    bad.email = Some("not an email".into());
    refused(check.user(3, &bad), "user 2: email: must be a valid email");
    bad = user(2, "bob");
    bad.password_hash = "plain text".into();
    refused(
        check.user(3, &bad),
        "user 2: password_hash: must be an argon2",
    );
    check.user(3, &user(2, "bob")).unwrap();
}

#[test]
fn ids_versions_and_high_water_marks_stay_within_2_to_the_53() {
    let mut check = Checker::new(Timestamp(NOW));
    for id in [0, -1, MAX_ID + 1, i64::MAX] {
        refused(check.user(2, &user(id, "alice")), "user");
    }
    let mut old = user(MAX_ID, "alice");
    old.version = MAX_ID + 1;
    refused(check.user(2, &old), "version");
    old.version = MAX_ID;
    check.user(2, &old).unwrap();
    refused(check.post(3, &post(i64::MAX - 1, MAX_ID)), "post");
    check
        .ids(&IdsRecord {
            users: 0,
            posts: MAX_ID,
            comments: 0,
            follows: 0,
        })
        .unwrap();
    refused(
        check.ids(&IdsRecord {
            users: i64::MAX,
            posts: 0,
            comments: 0,
            follows: 0,
        }),
        "ids: users:",
    );
    refused(
        check.ids(&IdsRecord {
            users: 0,
            posts: -1,
            comments: 0,
            follows: 0,
        }),
        "ids: posts:",
    );
}

#[test]
fn tokens_and_posts_belong_to_users_seen_earlier() {
    let mut check = Checker::new(Timestamp(NOW));
    let token = TokenRecord {
        hash: [1; 32],
        user_id: 1,
        created_at: NOW,
        expires_at: NOW + 1,
    };
    refused(
        check.token(2, &token),
        "token of user 1: user_id: no such user",
    );
    refused(check.post(2, &post(1, 1)), "post 1: author_id: no user 1");
    check.user(2, &user(1, "alice")).unwrap();
    check.token(3, &token).unwrap();
    refused(check.token(4, &token), "hash: already used on line 3");
    check.post(5, &post(1, 1)).unwrap();
    refused(
        check.post(6, &post(1, 1)),
        "post 1: id: already used on line 5",
    );
    let mut blank = post(2, 1);
    blank.title = " ".into();
    refused(check.post(6, &blank), "post 2: title: must not be empty");
}

#[test]
fn times_are_from_1970_to_9999_not_in_the_future_and_in_order() {
    let mut check = Checker::new(Timestamp(NOW));
    let mut u = user(1, "alice");
    u.created_at = -1;
    refused(check.user(2, &u), "created_at: -1 is not a time");
    u.created_at = NOW + 2 * CLOCK_SKEW;
    u.updated_at = u.created_at;
    refused(check.user(2, &u), "created_at: 2025-11-27");
    u.created_at = NOW;
    u.updated_at = NOW - 1;
    refused(check.user(2, &u), "updated_at: is before created_at");
    u.updated_at = NOW + CLOCK_SKEW / 2;
    check.user(2, &u).unwrap();
    // A token may expire far ahead, but not past what RFC 3339 can write.
    let mut token = TokenRecord {
        hash: [1; 32],
        user_id: 1,
        created_at: NOW,
        expires_at: MAX_TIME,
    };
    check.token(3, &token).unwrap();
    token.hash = [2; 32];
    token.expires_at = MAX_TIME + 1;
    refused(
        check.token(4, &token),
        "expires_at: 253402300800000000 is not a time",
    );
}

#[test]
fn profiles_follow_the_api_rules() {
    let mut check = Checker::new(Timestamp(NOW));
    let mut u = user(1, "alice");
    u.bio = "x".repeat(1001);
    refused(check.user(2, &u), "user 1: bio: must be at most 1000");
    u.bio = "hello".into();
    u.image = Some("javascript:alert(1)".into());
    refused(check.user(2, &u), "user 1: image: must be an absolute http");
    u.image = Some("https://example.com/a.png".into());
    check.user(2, &u).unwrap();
}

#[test]
fn follows_are_between_two_users_seen_earlier_once_each() {
    let mut check = Checker::new(Timestamp(NOW));
    let follow = |id, follower_id, followee_id| FollowRecord {
        id,
        follower_id,
        followee_id,
        created_at: NOW,
    };
    refused(
        check.follow(2, &follow(1, 1, 2)),
        "follow 1: follower_id: no user 1",
    );
    check.user(3, &user(1, "alice")).unwrap();
    check.user(4, &user(2, "bob")).unwrap();
    refused(check.follow(5, &follow(1, 1, 1)), "cannot follow themself");
    check.follow(5, &follow(1, 1, 2)).unwrap();
    refused(
        check.follow(6, &follow(1, 2, 1)),
        "id: already used on line 5",
    );
    refused(check.follow(6, &follow(2, 1, 2)), "the same follow twice");
    check.follow(6, &follow(2, 2, 1)).unwrap();
}

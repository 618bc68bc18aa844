//! `postbase import` is no back door: a dump written by hand passes the API's own rules and the
//! bounds that keep the instance working afterwards, or nothing of it is imported, and the error
//! names the line of the first bad record. Each bad dump is tried as version 2 (with a trailer
//! that matches it, so that only the record itself is wrong) and as version 1 (no trailer).

use serde_json::{json, Value};

use crate::helpers::{backends, Backend, PASSWORD};
use crate::test_db::TestDb;
use crate::transfer::{assert_refused, export, import, seal};

/// 2025-11-25, in microseconds.
const T: i64 = 1_764_072_000_000_000;

/// A real argon2 hash of [`PASSWORD`], as the API makes them.
async fn hash() -> String {
    postbase::auth::PasswordHasher::new()
        .hash(&postbase::domain::Password::parse(PASSWORD).unwrap())
        .await
        .unwrap()
}

fn user(id: i64, username: &str, hash: &str) -> Value {
    json!({"kind": "user", "id": id, "username": username, "email": null, "password_hash": hash,
           "admin": false, "version": 1, "created_at": T, "updated_at": T})
}

fn post(id: i64, author_id: i64) -> Value {
    json!({"kind": "post", "id": id, "author_id": author_id, "title": format!("post {id}"),
           "body": "", "version": 1, "created_at": T, "updated_at": T})
}

fn ids(users: i64, posts: i64) -> Value {
    json!({"kind": "ids", "users": users, "posts": posts})
}

/// The records as a version 2 dump, with its trailer: exactly what an export would write.
fn v2(records: &[Value]) -> String {
    let mut body = String::from("{\"format\":\"postbase-export\",\"version\":2}\n");
    for record in records {
        body.push_str(&format!("{record}\n"));
    }
    let trailer = seal(&body);
    body + &trailer
}

/// The records as a version 1 dump: no trailer.
fn v1(records: &[Value]) -> String {
    let mut dump = String::from("{\"format\":\"postbase-export\",\"version\":1}\n");
    for record in records {
        dump.push_str(&format!("{record}\n"));
    }
    dump
}

/// Refused in both versions, saying `expected`, with nothing imported. Version 1 first: a
/// postbase that did not check records would import it (and not merely fail on the header).
async fn refused(url: &str, records: &[Value], expected: &str) {
    assert_refused(url, &v1(records), expected).await;
    assert_refused(url, &v2(records), expected).await;
}

backends!(a_duplicated_id_is_refused_by_line_with_nothing_imported_and_a_corrected_retry_succeeds);
async fn a_duplicated_id_is_refused_by_line_with_nothing_imported_and_a_corrected_retry_succeeds(
    backend: Backend,
) {
    let hash = hash().await;
    // More rows than one batch (500) before the duplicate: none of them may stay behind.
    let mut records = vec![user(1, "alice", &hash)];
    records.extend((1..=600).map(|id| post(id, 1)));
    records.push(ids(1, 600));
    let good = records.clone();
    // Post 551 (line 553) given the id of post 300 (line 302).
    records[551] = post(300, 1);
    let db = TestDb::new(&backend).await;
    refused(
        &db.url,
        &records,
        "line 553: post 300: id: already used on line 302",
    )
    .await;
    // The database was left empty, so the corrected dump imports, as it is.
    let dump = v2(&good);
    let out = import(&db.url, &dump).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("imported 1 users, 0 tokens, 600 posts"));
    // Exported again, it is a version 3 dump, which moves on byte for byte.
    let exported = export(&db.url).await;
    assert!(exported.starts_with("{\"format\":\"postbase-export\",\"version\":5}\n"));
    let again = TestDb::new(&backend).await;
    assert!(import(&again.url, &exported).await.status.success());
    assert_eq!(export(&again.url).await, exported);
}

backends!(ids_versions_and_id_high_water_marks_beyond_2_to_the_53_are_refused);
async fn ids_versions_and_id_high_water_marks_beyond_2_to_the_53_are_refused(backend: Backend) {
    let hash = hash().await;
    let db = TestDb::new(&backend).await;
    let huge = 1_i64 << 62;
    let alice = || user(1, "alice", &hash);
    refused(
        &db.url,
        &[user(huge, "alice", &hash), ids(huge, 0)],
        "line 2: user 4611686018427387904: id: 4611686018427387904 is not from 1 to 9007199254740992",
    )
    .await;
    refused(
        &db.url,
        &[alice(), post(i64::MAX, 1), ids(1, i64::MAX)],
        "line 3: post 9223372036854775807: id: ",
    )
    .await;
    refused(
        &db.url,
        &[alice(), post(0, 1), ids(1, 0)],
        "line 3: post 0: id: 0 is not from 1",
    )
    .await;
    let mut worn = alice();
    worn["version"] = json!(i64::MAX);
    refused(&db.url, &[worn, ids(1, 0)], "line 2: user 1: version: ").await;
    // The high-water mark alone: every later sign-up would fail for good.
    refused(
        &db.url,
        &[alice(), ids(i64::MAX, 0)],
        "line 3: ids: users: 9223372036854775807 is not from 0",
    )
    .await;
}

backends!(usernames_and_emails_the_api_would_refuse_are_refused);
async fn usernames_and_emails_the_api_would_refuse_are_refused(backend: Backend) {
    let hash = hash().await;
    let db = TestDb::new(&backend).await;
    refused(
        &db.url,
        &[
            user(1, "alice", &hash),
            user(2, "has space", &hash),
            ids(2, 0),
        ],
        "line 3: user 2: username: may contain only letters A-Z and a-z, digits, '_' and '-'",
    )
    .await;
    refused(
        &db.url,
        &[user(1, &"x".repeat(5000), &hash), ids(1, 0)],
        "line 2: user 1: username: must be 3-32 characters long",
    )
    .await;
    refused(
        &db.url,
        &[user(1, "alice", &hash), user(2, "ALICE", &hash), ids(2, 0)],
        "line 3: user 2: username: \"ALICE\" is taken by user 1",
    )
    .await;
    let mut mailless = user(1, "alice", &hash);
    mailless["email"] = json!("not an address");
    refused(
        &db.url,
        &[mailless, ids(1, 0)],
        "line 2: user 1: email: must be a valid email address",
    )
    .await;
}

backends!(a_password_hash_beyond_the_argon2_ceiling_is_refused);
async fn a_password_hash_beyond_the_argon2_ceiling_is_refused(backend: Backend) {
    let hash = hash().await;
    assert!(hash.contains("$m=19456,t=2,p=1$"), "{hash}");
    // 512 MiB and 8 passes: seconds and a gigabyte for every login attempt of this user.
    let costly = hash.replace("$m=19456,t=2,p=1$", "$m=524288,t=8,p=1$");
    let db = TestDb::new(&backend).await;
    refused(
        &db.url,
        &[
            user(1, "alice", &hash),
            user(2, "mallory", &costly),
            ids(2, 0),
        ],
        "line 3: user 2: password_hash: argon2 parameters m=524288,t=8,p=1 exceed the ceiling \
         m=65536,t=10,p=4",
    )
    .await;
    refused(
        &db.url,
        &[user(1, "alice", "plain text"), ids(1, 0)],
        "line 2: user 1: password_hash: must be an argon2 PHC string",
    )
    .await;
}

backends!(tokens_and_posts_of_users_not_in_the_dump_or_with_impossible_times_are_refused);
async fn tokens_and_posts_of_users_not_in_the_dump_or_with_impossible_times_are_refused(
    backend: Backend,
) {
    let hash = hash().await;
    let db = TestDb::new(&backend).await;
    let token = json!({"kind": "token", "hash": "ab".repeat(32), "user_id": 9,
                       "created_at": T, "expires_at": T + 1});
    refused(
        &db.url,
        &[user(1, "alice", &hash), token, ids(1, 0)],
        "line 3: token of user 9: user_id: no such user earlier in the dump",
    )
    .await;
    refused(
        &db.url,
        &[user(1, "alice", &hash), post(1, 9), ids(1, 1)],
        "line 3: post 1: author_id: no user 9 earlier in the dump",
    )
    .await;
    let mut ancient = post(1, 1);
    ancient["created_at"] = json!(-1);
    refused(
        &db.url,
        &[user(1, "alice", &hash), ancient, ids(1, 1)],
        "line 3: post 1: created_at: -1 is not a time",
    )
    .await;
    let mut ahead = user(1, "alice", &hash);
    ahead["updated_at"] = json!(T + 100 * 365 * 86_400 * 1_000_000);
    refused(
        &db.url,
        &[ahead, ids(1, 0)],
        "line 2: user 1: updated_at: 2125-",
    )
    .await;
}

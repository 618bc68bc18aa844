//! Profiles, follows and the feed: bio and image, counts kept as follows and posts come and go,
//! `following` for the viewer with its own ETag, the follower lists, and the feed's pages.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, Backend, TestApp};

async fn follow(app: &TestApp, method: Method, token: &str, user: i64) -> Value {
    let res = app
        .authed(method, &format!("/api/users/{user}/follow"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["vary"], "Authorization");
    res.json().await.unwrap()
}

async fn authed_json(app: &TestApp, path: &str, token: &str) -> Value {
    let res = app.authed(Method::GET, path, token).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

fn names(page: &Value) -> Vec<String> {
    page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

fn titles(page: &Value) -> Vec<String> {
    page["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_owned())
        .collect()
}

backends!(a_profile_has_a_bio_an_image_and_counts);
async fn a_profile_has_a_bio_an_image_and_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let path = format!("/api/users/{}", alice.id);
    let patch = |body: Value| {
        app.authed(Method::PATCH, &path, &alice.token)
            .json(&body)
            .send()
    };
    let res = patch(json!({"bio": "Counts engines.", "image": "https://example.com/a.png"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.create_post(&alice.token, "one", "").await;
    let user = app.get_json(&path).await;
    assert_eq!(
        user,
        json!({"id": alice.id, "username": "alice", "bio": "Counts engines.",
            "image": "https://example.com/a.png", "follower_count": 0, "following_count": 0,
            "post_count": 1, "created_at": user["created_at"]})
    );
    // Limits, and schemes a browser would run or read locally.
    for (body, field) in [
        (json!({"bio": "é".repeat(1001)}), "bio"),
        (json!({"image": "javascript:alert(1)"}), "image"),
        (json!({"image": "data:image/png;base64,AAAA"}), "image"),
        (json!({"image": "example.com/a.png"}), "image"),
        (
            json!({"image": format!("https://e.com/{}", "a".repeat(2040))}),
            "image",
        ),
        (json!({"image": 5}), "image"),
        (json!({"bio": 5}), "bio"),
    ] {
        let res = patch(body.clone()).await.unwrap();
        let error = assert_error(res, 400, &error_for(field, &body)).await;
        assert!(error["fields"][field].is_string(), "{error}");
    }
    // `""` and null remove the image and clear the bio. Nothing else changed.
    let res = patch(json!({"image": null, "bio": null})).await.unwrap();
    let user: Value = res.json().await.unwrap();
    assert_eq!(
        (user["image"].clone(), user["bio"].clone()),
        (json!(null), json!(""))
    );
    assert_eq!(user["email"], "alice@example.com");
    // Someone else's profile is not yours to change.
    let bob = app.user("bob").await;
    let res = app
        .authed(Method::PATCH, &path, &bob.token)
        .json(&json!({"bio": "mine now"}))
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "You may only change your own account").await;
}

/// The sentence a refused field gets (its kind of problem is the field's own).
fn error_for(field: &str, body: &Value) -> String {
    match &body[field] {
        Value::Number(_) => format!("Invalid {field}: must be a string"),
        _ if field == "bio" => "Invalid bio: must be at most 1000 characters".into(),
        Value::String(s) if s.len() > 2048 => {
            "Invalid image: must be at most 2048 characters".into()
        }
        _ => "Invalid image: must be an absolute http or https URL".into(),
    }
}

backends!(follows_are_idempotent_counted_and_shown_to_the_follower);
async fn follows_are_idempotent_counted_and_shown_to_the_follower(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    for _ in 0..2 {
        let bob_seen = follow(&app, Method::PUT, &alice.token, bob.id).await;
        assert_eq!(
            (
                bob_seen["following"].clone(),
                bob_seen["follower_count"].clone()
            ),
            (json!(true), json!(1))
        );
    }
    let path = format!("/api/users/{}", bob.id);
    let anonymous = app.get(&path).await;
    let etag = anonymous.headers()["etag"].to_str().unwrap().to_owned();
    let anonymous: Value = anonymous.json().await.unwrap();
    assert!(anonymous.get("following").is_none(), "{anonymous}");
    assert_eq!(anonymous["follower_count"], 1);
    // The follower's view differs, so its ETag does; a 304 needs the viewer's own.
    let res = app
        .authed(Method::GET, &path, &alice.token)
        .send()
        .await
        .unwrap();
    let alices_etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(alices_etag, etag);
    assert_eq!(res.json::<Value>().await.unwrap()["following"], true);
    let res = app
        .authed(Method::GET, &path, &alice.token)
        .header("if-none-match", &alices_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    let me = authed_json(&app, &format!("/api/users/{}", alice.id), &alice.token).await;
    assert_eq!(
        (me["following_count"].clone(), me["following"].clone()),
        (json!(1), json!(false))
    );
    // Unfollowing twice is the same as once.
    for _ in 0..2 {
        let bob_seen = follow(&app, Method::DELETE, &alice.token, bob.id).await;
        assert_eq!(
            (
                bob_seen["following"].clone(),
                bob_seen["follower_count"].clone()
            ),
            (json!(false), json!(0))
        );
    }
    // Yourself: 400; nobody: 404; no token: 401.
    for method in [Method::PUT, Method::DELETE] {
        let url = format!("/api/users/{}/follow", alice.id);
        let res = app
            .authed(method.clone(), &url, &alice.token)
            .send()
            .await
            .unwrap();
        assert_error(res, 400, "You cannot follow yourself").await;
        let res = app
            .authed(method.clone(), "/api/users/999999/follow", &alice.token)
            .send()
            .await
            .unwrap();
        assert_error(res, 404, "User not found").await;
        let res = app
            .authed(method.clone(), "/api/users/abc/follow", &alice.token)
            .send()
            .await
            .unwrap();
        assert_error(res, 404, "User not found").await;
        let res = app
            .request(method, &format!("/api/users/{}/follow", bob.id))
            .send()
            .await
            .unwrap();
        assert_error(res, 401, "Invalid token").await;
    }
}

backends!(follower_lists_page_newest_follow_first_and_go_with_the_user);
async fn follower_lists_page_newest_follow_first_and_go_with_the_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let star = app.user("star").await;
    let mut fans = Vec::new();
    for name in ["fan1", "fan2", "fan3"] {
        let fan = app.user(name).await;
        follow(&app, Method::PUT, &fan.token, star.id).await;
        fans.push(fan);
    }
    // fan1 follows again: still the oldest follow (nothing changed).
    follow(&app, Method::PUT, &fans[0].token, star.id).await;
    let path = format!("/api/users/{}/followers?limit=2", star.id);
    let first = authed_json(&app, &path, &fans[0].token).await;
    assert_eq!(names(&first), ["fan3", "fan2"]);
    assert_eq!(first["users"][0]["following"], false);
    let cursor = first["next_cursor"].as_str().unwrap();
    let next = app
        .get_json(&format!(
            "/api/users/{}/followers?limit=2&cursor={cursor}",
            star.id
        ))
        .await;
    assert_eq!(names(&next), ["fan1"]);
    assert_eq!(next["next_cursor"], Value::Null);
    let following = app
        .get_json(&format!("/api/users/{}/following", fans[1].id))
        .await;
    assert_eq!(names(&following), ["star"]);
    assert_eq!(following["users"][0]["follower_count"], 3);
    // Unknown users: 404; a posts cursor is not a follows cursor.
    assert_error(
        app.get("/api/users/999999/followers").await,
        404,
        "User not found",
    )
    .await;
    assert_error(
        app.get("/api/users/999999/following").await,
        404,
        "User not found",
    )
    .await;
    let posts_cursor = "cAAAAAAAAAABPbzWqOKNIXM";
    let res = app
        .get(&format!(
            "/api/users/{}/followers?cursor={posts_cursor}",
            star.id
        ))
        .await;
    assert_error(res, 400, "Invalid cursor").await;
    // A deleted follower leaves the list and the count.
    let res = app
        .authed(
            Method::DELETE,
            &format!("/api/users/{}", fans[2].id),
            &fans[2].token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let star_now = app.get_json(&format!("/api/users/{}", star.id)).await;
    assert_eq!(star_now["follower_count"], 2);
    let all = app
        .get_json(&format!("/api/users/{}/followers", star.id))
        .await;
    assert_eq!(names(&all), ["fan2", "fan1"]);
}

backends!(the_feed_has_the_followed_posts_newest_first_and_follows_the_follows);
async fn the_feed_has_the_followed_posts_newest_first_and_follows_the_follows(backend: Backend) {
    let app = spawn_app(backend).await;
    let reader = app.user("reader").await;
    let loud = app.user("loud").await;
    let quiet = app.user("quiet").await;
    let other = app.user("other").await;
    app.create_post(&quiet.token, "quiet old", "").await;
    for i in 0..3 {
        app.create_post(&loud.token, &format!("loud {i}"), "").await;
        app.create_post(&other.token, &format!("other {i}"), "")
            .await;
    }
    // Nobody followed yet: an empty feed, private to its reader.
    let res = app
        .authed(Method::GET, "/api/feed", &reader.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "private, no-cache");
    assert_eq!(res.headers()["vary"], "Authorization");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"posts": [], "next_cursor": null})
    );
    // A follow brings the user's earlier posts in; later posts arrive as they are written.
    follow(&app, Method::PUT, &reader.token, loud.id).await;
    follow(&app, Method::PUT, &reader.token, quiet.id).await;
    let liked = app.create_post(&loud.token, "loud new", "").await;
    let feed = authed_json(&app, "/api/feed?limit=3", &reader.token).await;
    assert_eq!(titles(&feed), ["loud new", "loud 2", "loud 1"]);
    assert_eq!(feed["posts"][0]["liked"], false, "read for the caller");
    let cursor = feed["next_cursor"].as_str().unwrap();
    let rest = authed_json(
        &app,
        &format!("/api/feed?limit=3&cursor={cursor}"),
        &reader.token,
    )
    .await;
    assert_eq!(titles(&rest), ["loud 0", "quiet old"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    // Deleted posts leave it; an unfollow takes that user's posts out.
    let res = app
        .authed(
            Method::DELETE,
            &format!("/api/posts/{}", liked["id"]),
            &loud.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    follow(&app, Method::DELETE, &reader.token, loud.id).await;
    let feed = authed_json(&app, "/api/feed", &reader.token).await;
    assert_eq!(titles(&feed), ["quiet old"]);
    // The author's post count follows their posts.
    let loud_now = app.get_json(&format!("/api/users/{}", loud.id)).await;
    assert_eq!(loud_now["post_count"], 3);
    // The feed needs a token; a feed cursor is refused on the posts list and back.
    assert_error(app.get("/api/feed").await, 401, "Invalid token").await;
    let posts = app.get_json("/api/posts?limit=1").await;
    let cursor = posts["next_cursor"].as_str().unwrap();
    let res = app
        .authed(
            Method::GET,
            &format!("/api/feed?cursor={cursor}"),
            &reader.token,
        )
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "Invalid cursor").await;
}

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, backends, spawn_app, Backend};

backends!(get_sends_an_etag_and_if_none_match_with_it_is_304);
async fn get_sends_an_etag_and_if_none_match_with_it_is_304(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "t", "").await;
    let path = format!("/api/posts/{}", post["id"]);
    let res = app.get(&path).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    let res = app
        .request(Method::GET, &path)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert_eq!(res.text().await.unwrap(), "");
    // After an edit the old tag no longer matches.
    app.authed(Method::PATCH, &path, &alice.token)
        .json(&json!({"title": "t2"}))
        .send()
        .await
        .unwrap();
    let res = app
        .request(Method::GET, &path)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_ne!(res.headers()["etag"], etag.as_str());

    let user_path = format!("/api/users/{}", alice.id);
    let res = app.get(&user_path).await;
    let user_etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = app
        .request(Method::GET, &user_path)
        .header("if-none-match", &user_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
}

backends!(a_stale_if_match_is_412_and_changes_nothing);
async fn a_stale_if_match_is_412_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "v1", "").await;
    let path = format!("/api/posts/{}", post["id"]);
    let etag = app.get(&path).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    // Device A edits with the current tag: fine, and the tag moves on.
    let res = app
        .authed(Method::PATCH, &path, &alice.token)
        .header("if-match", &etag)
        .json(&json!({"title": "from A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let new_etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);

    // Device B, offline with the old tag, must not overwrite A's edit.
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let res = app
            .authed(method.clone(), &path, &alice.token)
            .header("if-match", &etag)
            .json(&json!({"title": "from B"}))
            .send()
            .await
            .unwrap();
        assert_error(
            res,
            412,
            "Precondition failed: the resource has changed since you read it",
        )
        .await;
    }
    let now: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(now["title"], "from A");

    let res = app
        .authed(Method::DELETE, &path, &alice.token)
        .header("if-match", &new_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

backends!(if_match_on_users_protects_account_edits);
async fn if_match_on_users_protects_account_edits(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let path = format!("/api/users/{}", alice.id);
    let res = app
        .authed(Method::PATCH, &path, &alice.token)
        .header("if-match", "\"999\"")
        .json(&json!({"email": "x@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412);
    let res = app
        .authed(Method::DELETE, &path, &alice.token)
        .header("if-match", "\"999\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412);
    assert_eq!(app.get(&path).await.status(), 200);
}

backends!(of_two_concurrent_edits_with_one_etag_exactly_one_wins);
async fn of_two_concurrent_edits_with_one_etag_exactly_one_wins(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "v1", "").await;
    let path = format!("/api/posts/{}", post["id"]);
    let etag = app.get(&path).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let req = app
            .authed(Method::PATCH, &path, &alice.token)
            .header("if-match", &etag)
            .json(&json!({"title": format!("edit {i}")}));
        tasks.push(tokio::spawn(async move {
            req.send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        7,
        "{statuses:?}"
    );
}

backends!(a_request_wrong_in_itself_is_400_even_with_a_stale_if_match);
async fn a_request_wrong_in_itself_is_400_even_with_a_stale_if_match(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "v1", "").await;
    let path = format!("/api/posts/{}", post["id"]);
    for method in [Method::PUT, Method::PATCH] {
        let res = app
            .authed(method.clone(), &path, &alice.token)
            .header("if-match", "\"999\"")
            .json(&json!({"title": "ok", "body": ["not", "a", "string"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{method}");
    }
    let res = app
        .authed(
            Method::PATCH,
            &format!("/api/users/{}", alice.id),
            &alice.token,
        )
        .header("if-match", "\"999\"")
        .json(&json!({"password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

backends!(a_list_page_has_an_etag_and_if_none_match_with_it_is_304_until_the_page_changes);
async fn a_list_page_has_an_etag_and_if_none_match_with_it_is_304_until_the_page_changes(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    app.user("bob").await;
    app.user("carol").await;
    for i in 0..3 {
        app.create_post(&alice.token, &format!("p{i}"), "").await;
    }
    let revalidate = |path: &str, etag: &str| {
        app.request(Method::GET, path)
            .header("if-none-match", etag)
            .send()
    };
    for list in ["/api/posts?limit=2", "/api/users?limit=2"] {
        let res = app.get(list).await;
        assert_eq!(res.status(), 200, "{list}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{list}");
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        let cursor = res.json::<Value>().await.unwrap()["next_cursor"]
            .as_str()
            .unwrap()
            .to_owned();

        let res = revalidate(list, &etag).await.unwrap();
        assert_eq!(res.status(), 304, "{list}");
        assert_eq!(res.headers()["etag"], etag.as_str());
        assert_eq!(res.headers()["cache-control"], "no-cache");
        assert_eq!(res.text().await.unwrap(), "");
        // A weak form of the tag and a list of tags are honoured too; another tag is not.
        let res = revalidate(list, &format!("\"x\", W/{etag}")).await.unwrap();
        assert_eq!(res.status(), 304, "{list}");
        let res = revalidate(list, "\"x\"").await.unwrap();
        assert_eq!(res.status(), 200, "{list}");

        // The next page is another representation, with a tag of its own.
        let next = format!("{list}&cursor={cursor}");
        let res = revalidate(&next, &etag).await.unwrap();
        assert_eq!(res.status(), 200, "{next}");
        assert_ne!(res.headers()["etag"], etag.as_str());
    }

    // A new post changes the first page of posts: its old tag no longer matches.
    let res = app.get("/api/posts?limit=2").await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    app.create_post(&alice.token, "p3", "").await;
    let res = revalidate("/api/posts?limit=2", &etag).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_ne!(res.headers()["etag"], etag.as_str());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["posts"][0]["title"], "p3");
}

backends!(every_get_says_how_it_may_be_cached);
/// Public answers may be cached but are revalidated (`no-cache`, with their ETag); answers with
/// an email or a token are never stored (`no-store`); nothing is left to a cache's guess.
async fn every_get_says_how_it_may_be_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    let alice = app.user("alice").await;
    let post = app.create_post(&alice.token, "t", "").await;
    let cache_control = |res: &reqwest::Response| {
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let post_path = format!("/api/posts/{}", post["id"]);
    let user_path = format!("/api/users/{}", alice.id);
    for (path, expected) in [
        (post_path.as_str(), "no-cache"),
        (user_path.as_str(), "no-cache"),
        ("/api/posts/999999", "no-cache"),
        ("/api/profile", "no-cache"),
        ("/healthz", "no-cache"),
        ("/readyz", "no-cache"),
        ("/api/openapi.json", "no-cache"),
        ("/docs/", "no-cache"),
        ("/metrics", "no-store"),
    ] {
        let res = app.get(path).await;
        assert_eq!(cache_control(&res).as_deref(), Some(expected), "{path}");
    }

    // The public view of a user is revalidated; the same user with the email is never stored,
    // and a 304 says what the 200 would have.
    let res = app.get(&user_path).await;
    assert_eq!(res.headers()["vary"], "Authorization");
    for (token, expected) in [(None, "no-cache"), (Some(&alice.token), "no-store")] {
        let mut req = app.request(Method::GET, &user_path);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.try_clone().unwrap().send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(cache_control(&res).as_deref(), Some(expected));
        // With a token the ETag includes `following`: each view has its own.
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        let res = req.header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(res.status(), 304);
        assert_eq!(cache_control(&res).as_deref(), Some(expected));
    }
    let res = app
        .authed(Method::GET, "/api/profile", &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(cache_control(&res).as_deref(), Some("no-store"));

    // A post's 304 carries its ETag and the same policy as its 200.
    let res = app.get(&post_path).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = app
        .request(Method::GET, &post_path)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(cache_control(&res).as_deref(), Some("no-cache"));
}

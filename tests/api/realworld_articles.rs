//! The RealWorld API's articles (posts with slugs, favorites, offset pages and counts), comments
//! and tags, on both databases.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{backends, spawn_app_with, Backend};
use crate::realworld::{errors, register, rw, RW};

backends!(articles_are_posts_with_slugs_favorites_and_offset_pages);
async fn articles_are_posts_with_slugs_favorites_and_offset_pages(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.realworld = true).await;
    let jake = register(&app, "jake").await;
    let reader = register(&app, "reader").await;
    let new = json!({"article": {"title": "How to train your dragon", "description": "Ever wonder how?", "body": "Very carefully.", "tagList": ["training", "dragons"]}});
    let (status, got) = rw(&app, Method::POST, "/articles", Some(&jake), Some(new)).await;
    assert_eq!(status, 201, "{got}");
    let a = &got["article"];
    let slug = a["slug"].as_str().unwrap().to_owned();
    assert!(slug.starts_with("how-to-train-your-dragon-"), "{slug}");
    assert_eq!(
        a["tagList"],
        json!(["dragons", "training"]),
        "sorted, as the specification's lists are"
    );
    assert_eq!(
        (a["favorited"].as_bool(), a["favoritesCount"].as_i64()),
        (Some(false), Some(0))
    );
    assert_eq!(a["author"]["username"], "jake");
    assert_eq!(a["description"], "Ever wonder how?");
    // The same post on the native API, with the description as its summary.
    let id: i64 = slug.rsplit('-').next().unwrap().parse().unwrap();
    let native = app.get_json(&format!("/api/posts/{id}")).await;
    assert_eq!(
        (native["summary"].as_str(), native["body"].as_str()),
        (Some("Ever wonder how?"), Some("Very carefully."))
    );

    for i in 0..4 {
        let new =
            json!({"article": {"title": format!("Post {i}"), "description": "d", "body": "b"}});
        assert_eq!(
            rw(&app, Method::POST, "/articles", Some(&jake), Some(new))
                .await
                .0,
            201
        );
    }
    let (status, got) = rw(&app, Method::GET, "/articles?limit=2&offset=1", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(got["articlesCount"], 5);
    let titles: Vec<&str> = got["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Post 2", "Post 1"], "newest first, one skipped");
    assert!(
        got["articles"][0].get("body").is_none(),
        "lists leave the body out"
    );
    let (_, got) = rw(&app, Method::GET, "/articles?tag=dragons", None, None).await;
    assert_eq!(
        (
            got["articlesCount"].as_i64(),
            got["articles"][0]["slug"].as_str()
        ),
        (Some(1), Some(slug.as_str()))
    );
    let (_, got) = rw(
        &app,
        Method::GET,
        "/articles?author=JAKE&limit=1",
        None,
        None,
    )
    .await;
    assert_eq!(
        (
            got["articlesCount"].as_i64(),
            got["articles"].as_array().unwrap().len()
        ),
        (Some(5), 1)
    );
    let (_, got) = rw(&app, Method::GET, "/articles?author=nobody", None, None).await;
    assert_eq!(got, json!({"articles": [], "articlesCount": 0}));
    let (status, _) = rw(&app, Method::GET, "/articles?limit=abc", None, None).await;
    assert_eq!(status, 422);

    let (status, got) = rw(
        &app,
        Method::POST,
        &format!("/articles/{slug}/favorite"),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(
        (
            status,
            got["article"]["favorited"].as_bool(),
            got["article"]["favoritesCount"].as_i64()
        ),
        (200, Some(true), Some(1))
    );
    let (_, got) = rw(
        &app,
        Method::GET,
        "/articles?favorited=reader",
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(
        (
            got["articlesCount"].as_i64(),
            got["articles"][0]["favorited"].as_bool()
        ),
        (Some(1), Some(true))
    );
    let (_, got) = rw(
        &app,
        Method::DELETE,
        &format!("/articles/{slug}/favorite"),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(
        (
            got["article"]["favorited"].as_bool(),
            got["article"]["favoritesCount"].as_i64()
        ),
        (Some(false), Some(0))
    );

    // The feed: the followed author's articles, counted from their post count.
    let (_, got) = rw(&app, Method::GET, "/articles/feed", Some(&reader), None).await;
    assert_eq!(got, json!({"articles": [], "articlesCount": 0}));
    rw(
        &app,
        Method::POST,
        "/profiles/jake/follow",
        Some(&reader),
        None,
    )
    .await;
    let (_, got) = rw(
        &app,
        Method::GET,
        "/articles/feed?limit=3",
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(
        (
            got["articlesCount"].as_i64(),
            got["articles"].as_array().unwrap().len()
        ),
        (Some(5), 3)
    );
    assert_eq!(got["articles"][0]["author"]["following"], true);
    assert_eq!(
        rw(&app, Method::GET, "/articles/feed", None, None).await.0,
        401
    );

    // A new title makes a new slug; the old one still finds the article.
    let change = json!({"article": {"title": "Dragons, revisited", "body": "With two hands"}});
    let (status, _) = rw(
        &app,
        Method::PUT,
        &format!("/articles/{slug}"),
        Some(&reader),
        Some(change.clone()),
    )
    .await;
    assert_eq!(status, 403, "only the author");
    let (status, got) = rw(
        &app,
        Method::PUT,
        &format!("/articles/{slug}"),
        Some(&jake),
        Some(change),
    )
    .await;
    assert_eq!(status, 200);
    let renamed = got["article"]["slug"].as_str().unwrap().to_owned();
    assert!(renamed.starts_with("dragons-revisited-"));
    assert_eq!(got["article"]["body"], "With two hands");
    let (status, got) = rw(&app, Method::GET, &format!("/articles/{slug}"), None, None).await;
    assert_eq!(
        (status, got["article"]["slug"].as_str()),
        (200, Some(renamed.as_str()))
    );
    let (status, got) = rw(&app, Method::GET, "/articles/no-such-99999", None, None).await;
    assert_eq!(
        (status, errors(&got)),
        (404, vec!["Article not found".to_owned()])
    );

    let (status, _) = rw(
        &app,
        Method::DELETE,
        &format!("/articles/{renamed}"),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let res = app
        .request(Method::DELETE, &format!("{RW}/articles/{renamed}"))
        .header("Authorization", format!("Token {jake}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        rw(
            &app,
            Method::GET,
            &format!("/articles/{renamed}"),
            None,
            None
        )
        .await
        .0,
        404
    );
    let (_, got) = rw(&app, Method::GET, "/articles", None, None).await;
    assert_eq!(got["articlesCount"], 4, "the count follows deletions");
}

backends!(comments_and_tags);
async fn comments_and_tags(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.realworld = true).await;
    let jake = register(&app, "jake").await;
    let other = register(&app, "other").await;
    let new = json!({"article": {"title": "Dragons", "description": "d", "body": "b", "tagList": ["dragons", "fire"]}});
    let slug = rw(&app, Method::POST, "/articles", Some(&jake), Some(new))
        .await
        .1["article"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/articles/{slug}/comments");
    let (status, got) = rw(
        &app,
        Method::POST,
        &path,
        Some(&other),
        Some(json!({"comment": {"body": "Thank you so much!"}})),
    )
    .await;
    assert_eq!(status, 200);
    let comment = got["comment"].clone();
    assert_eq!(
        (
            comment["body"].as_str(),
            comment["author"]["username"].as_str()
        ),
        (Some("Thank you so much!"), Some("other"))
    );
    let (status, got) = rw(
        &app,
        Method::POST,
        &path,
        Some(&other),
        Some(json!({"comment": {"body": "  "}})),
    )
    .await;
    assert_eq!(status, 422, "{got}");
    let (status, got) = rw(&app, Method::GET, &path, None, None).await;
    assert_eq!(
        (status, got["comments"].as_array().unwrap().len()),
        (200, 1)
    );
    assert_eq!(got["comments"][0]["id"], comment["id"]);
    let third = register(&app, "third").await;
    let one = format!("{path}/{}", comment["id"]);
    assert_eq!(
        rw(&app, Method::DELETE, &one, Some(&third), None).await.0,
        403
    );
    let res = app
        .request(Method::DELETE, &format!("{RW}{one}"))
        .header("Authorization", format!("Token {jake}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204, "the article's author may delete it");
    assert_eq!(
        rw(&app, Method::DELETE, &one, Some(&jake), None).await.0,
        404
    );
    assert_eq!(
        rw(
            &app,
            Method::GET,
            "/articles/nothing-424242/comments",
            None,
            None
        )
        .await
        .0,
        404
    );

    let (status, got) = rw(&app, Method::GET, "/tags", None, None).await;
    assert_eq!(status, 200);
    let mut tags: Vec<&str> = got["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["dragons", "fire"]);
}

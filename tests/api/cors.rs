use reqwest::Method;

use crate::helpers::{backends, spawn_app, spawn_app_with, Backend};

backends!(by_default_any_origin_is_allowed_without_credentials);
async fn by_default_any_origin_is_allowed_without_credentials(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .request(Method::GET, "/api/posts")
        .header("origin", "https://anything.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert!(res
        .headers()
        .get("access-control-allow-credentials")
        .is_none());
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for h in ["location", "etag", "link", "x-request-id"] {
        assert!(exposed.contains(h), "{exposed}");
    }
}

backends!(a_preflight_on_any_api_route_is_204_with_methods_headers_and_max_age);
async fn a_preflight_on_any_api_route_is_204_with_methods_headers_and_max_age(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/api/posts",
        "/api/posts/1",
        "/api/users/1",
        "/api/tokens/current",
        "/api/profile",
    ] {
        let res = app
            .request(Method::OPTIONS, path)
            .header("origin", "http://localhost:3000")
            .header("access-control-request-method", "PUT")
            .header(
                "access-control-request-headers",
                "authorization, content-type, if-match",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "{path}");
        let h = res.headers();
        assert_eq!(h["access-control-allow-origin"], "*");
        assert!(h.contains_key("access-control-allow-methods"));
        let allowed = h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        for need in [
            "authorization",
            "content-type",
            "if-match",
            "if-none-match",
            "last-event-id",
        ] {
            assert!(allowed.contains(need), "{allowed}");
        }
        assert!(
            h["access-control-max-age"]
                .to_str()
                .unwrap()
                .parse::<u32>()
                .unwrap()
                > 0
        );
        assert!(h.get("access-control-allow-credentials").is_none());
    }
    let res = app
        .request(Method::OPTIONS, "/api/posts/1")
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "DELETE")
        .send()
        .await
        .unwrap();
    let methods = res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    for m in ["GET", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
}

backends!(configured_origins_are_matched_exactly);
async fn configured_origins_are_matched_exactly(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.cors_origins = vec!["https://a.example".into(), "https://b.example".into()]
    })
    .await;
    for allowed in ["https://a.example", "https://b.example"] {
        let res = app
            .request(Method::GET, "/api/posts")
            .header("origin", allowed)
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["access-control-allow-origin"], allowed);
        assert!(res.headers()["vary"].to_str().unwrap().contains("Origin"));
        let res = app
            .request(Method::OPTIONS, "/api/posts")
            .header("origin", allowed)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
        assert_eq!(res.headers()["access-control-allow-origin"], allowed);
    }
    for denied in [
        "https://c.example",
        "https://a.example.evil.com",
        "https://evil-a.example",
        "http://a.example",
        "https://a.exampl",
        "null",
    ] {
        let res = app
            .request(Method::GET, "/api/posts")
            .header("origin", denied)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "the request itself is served; the browser withholds it"
        );
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{denied}"
        );
        let res = app
            .request(Method::OPTIONS, "/api/posts")
            .header("origin", denied)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{denied}"
        );
        assert!(
            res.headers().get("access-control-allow-methods").is_none(),
            "{denied}"
        );
    }
}

//! Microbenchmarks of the hot paths, so a regression shows without a load test:
//! `cargo bench --bench hot_paths`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use postbase::auth::{parse_bearer, Token};
use postbase::domain::Timestamp;
use postbase::http::pagination::{decode_cursor, encode_cursor, ListKind};
use postbase::http::PostJson;
use postbase::store::Post;
use serde::Serialize;

fn token_verification(c: &mut Criterion) {
    // Everything a request's token costs before the one indexed lookup: header parsing and SHA-256.
    let header = format!("Bearer {}", Token::generate().as_str());
    c.bench_function("token: parse Authorization and hash", |b| {
        b.iter(|| parse_bearer(black_box(header.as_bytes())))
    });
    c.bench_function("token: generate", |b| b.iter(Token::generate));
}

fn page_serialisation(c: &mut Criterion) {
    #[derive(Serialize)]
    struct Page<'a> {
        posts: Vec<PostJson<'a>>,
        next_cursor: Option<String>,
    }
    let now = Timestamp::now();
    let posts: Vec<Post> = (1..=20)
        .map(|id| Post {
            id,
            title: format!("Post number {id}: a title of ordinary length"),
            body: "A body of a few sentences, as a typical post would have. ".repeat(4),
            summary: String::new(),
            author_id: id % 7 + 1,
            tags: vec!["rust".into(), "web".into()],
            like_count: id * 3,
            comment_count: id,
            liked: Some(id % 2 == 0),
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .collect();
    c.bench_function("page: serialise 20 posts", |b| {
        b.iter(|| {
            serde_json::to_vec(&Page {
                posts: black_box(&posts).iter().map(PostJson::from).collect(),
                next_cursor: Some(encode_cursor(ListKind::Posts, 1)),
            })
        })
    });
}

fn cursors(c: &mut Criterion) {
    let cursor = encode_cursor(ListKind::Posts, 123_456_789);
    c.bench_function("cursor: encode", |b| {
        b.iter(|| encode_cursor(ListKind::Posts, black_box(123_456_789)))
    });
    c.bench_function("cursor: decode", |b| {
        b.iter(|| decode_cursor(ListKind::Posts, black_box(&cursor)))
    });
}

criterion_group!(benches, token_verification, page_serialisation, cursors);
criterion_main!(benches);

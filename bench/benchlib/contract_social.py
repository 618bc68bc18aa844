"""The contract check for comments, likes and tags (see contract.py for the rest and the order)."""

from collections import Counter

from .common import (BENCH_TAG, COMMENTED_EVERY, commented_posts, comment_ids_of, cursor_for, liked_posts_of,
                     post_etag, seeded_counts, tags_of)

COMMENT_KEYS = {"id", "post_id", "author_id", "body", "created_at", "updated_at"}


def ids_of(payload, key):
    return [x.get("id") for x in payload.get(key, [])] if isinstance(payload, dict) else None


def social_reads(c):
    n = c.n_posts
    tagged = [p for p in range(n, 0, -1) if BENCH_TAG in tags_of(p)]
    r = f"GET /api/posts?tag={BENCH_TAG}&limit=20"
    st, h, p = c.req("GET", f"/api/posts?tag={BENCH_TAG}&limit=20")
    ids = ids_of(p, "posts")
    want_cursor = cursor_for(b"p", tagged[19]) if len(tagged) > 20 else None
    c.expect(r, st == 200 and ids == tagged[:20] and p.get("next_cursor") == want_cursor,
             f"200, the 20 newest posts tagged {BENCH_TAG} ({tagged[:3]}...), next_cursor {want_cursor}",
             f"{st} ids={ids} next_cursor={p.get('next_cursor') if isinstance(p, dict) else p}")
    link = h.get("link", "")
    c.expect(r, want_cursor is None or (f"cursor={want_cursor}" in link and f"tag={BENCH_TAG}" in link),
             f'Link: </api/posts?...tag={BENCH_TAG}...cursor={want_cursor}...>; rel="next"', link)
    c.keep(r, p)

    deep = max(2, n // 20)
    r = f"GET /api/posts?tag={BENCH_TAG}&limit=20&cursor=<id {deep}>"
    st, h, p = c.req("GET", f"/api/posts?tag={BENCH_TAG}&limit=20&cursor={cursor_for(b'p', deep)}")
    want = [x for x in tagged if x < deep][:20]
    c.expect(r, st == 200 and ids_of(p, "posts") == want, f"200, posts {want[:3]}...", f"{st} ids={ids_of(p, 'posts')}")
    c.keep(r, p)

    r = "GET /api/tags"
    st, h, p = c.req("GET", "/api/tags")
    counts = Counter(t for x in range(1, n + 1) for t in tags_of(x))
    want = [{"name": t, "count": k} for t, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:100]
    c.expect(r, st == 200 and p == want, f"200 {want}", f"{st} {p}")
    c.keep(r, p)

    if not commented_posts(n):
        return
    post = commented_posts(n)[-1]
    seeded = comment_ids_of(post)
    r = f"GET /api/posts/{post}/comments?limit=20"
    st, h, p = c.req("GET", f"/api/posts/{post}/comments?limit=20")
    comments = p.get("comments", []) if isinstance(p, dict) else []
    ok = st == 200 and [x.get("id") for x in comments] == seeded[:20] and \
        all(isinstance(x, dict) and set(x) == COMMENT_KEYS and x.get("post_id") == post for x in comments)
    c.expect(r, ok, f"200, comments {seeded[0]}..{seeded[19]} oldest first, each with exactly {sorted(COMMENT_KEYS)}",
             f"{st} {p}")
    next_cursor = p.get("next_cursor") if isinstance(p, dict) else None
    c.expect(r, isinstance(next_cursor, str) and "cursor=" in h.get("link", ""),
             'a next_cursor and Link: <...cursor=...>; rel="next"', f"{next_cursor} {h.get('link')}")
    c.keep(r, p)
    if isinstance(next_cursor, str):
        r = f"GET /api/posts/{post}/comments?limit=20&cursor=<next_cursor>"
        st, h, p = c.req("GET", f"/api/posts/{post}/comments?limit=20&cursor={next_cursor}")
        c.expect(r, st == 200 and ids_of(p, "comments") == seeded[20:] and p.get("next_cursor") is None,
                 f"200, comments {seeded[20:]}, next_cursor null", f"{st} {p}")
        c.keep(r, p)

    r = f"GET /api/posts/{n + 1000}/comments"
    st, h, p = c.req("GET", f"/api/posts/{n + 1000}/comments")
    c.expect(r, st == 404 and isinstance(p, dict) and p.get("error") == "Post not found",
             '404 {"error": "Post not found"}', f"{st} {p}")


def social_writes(c):
    n = c.n_posts
    post = COMMENTED_EVERY if n >= COMMENTED_EVERY else 1
    r = f'POST /api/posts/{post}/comments {{"body": "Contract check"}} (token of user7)'
    st, h, p = c.req("POST", f"/api/posts/{post}/comments", {"body": "Contract check"}, c.auth)
    ok = st == 201 and isinstance(p, dict) and set(p) == COMMENT_KEYS and p.get("post_id") == post \
        and p.get("author_id") == c.uid and p.get("body") == "Contract check"
    c.expect(r, ok, f"201 {{id, post_id: {post}, author_id: 7, body, created_at, updated_at}}", f"{st} {p}")
    if isinstance(p, dict):
        c.expect(r, h.get("location") == f"/api/comments/{p.get('id')}" and h.get("etag"),
                 f"Location: /api/comments/{p.get('id')} and an ETag",
                 f"location={h.get('location')} etag={h.get('etag')}")
        st, h, got = c.req("GET", f"/api/posts/{post}")
        had = seeded_counts(post, n)[1]
        etag = post_etag(1, post, n, extra_comments=1)
        c.expect(f"GET /api/posts/{post} after the comment", isinstance(got, dict)
                 and got.get("comment_count") == had + 1 and h.get("etag") == etag,
                 f"comment_count {had + 1}, ETag: {etag}", f"{got} etag={h.get('etag')}")

    r = f'POST /api/posts/{post}/comments {{"body": "   "}} (token)'
    st, h, p = c.req("POST", f"/api/posts/{post}/comments", {"body": "   "}, c.auth)
    c.expect(r, st == 400, "400", f"{st} {p}")

    r = f'POST /api/posts/{post}/comments {{"body": "x"}} (no token)'
    st, h, p = c.req("POST", f"/api/posts/{post}/comments", {"body": "x"})
    c.expect(r, st == 401, "401", f"{st} {p}")

    # A post user7 does not like yet, and how many likes it has from the seed.
    target = next(x for x in range(n, 0, -1) if x not in liked_posts_of(c.uid, n))
    base = seeded_counts(target, n)[0]
    for method, liked, count in (("PUT", True, base + 1), ("PUT", True, base + 1),
                                 ("DELETE", False, base), ("DELETE", False, base)):
        r = f"{method} /api/posts/{target}/like (token of user7)"
        st, h, p = c.req(method, f"/api/posts/{target}/like", headers=c.auth)
        c.post_shape(r, p, viewer=True)
        etag = f'"1-{count}-{seeded_counts(target, n)[1]}-{"l" if liked else "n"}"'
        c.expect(r, st == 200 and isinstance(p, dict) and p.get("liked") is liked and p.get("like_count") == count
                 and h.get("etag") == etag,
                 f'200, "liked": {str(liked).lower()}, "like_count": {count}, ETag: {etag}',
                 f"{st} {p} etag={h.get('etag')}")

    r = f"PUT /api/posts/{n + 1000}/like (token)"
    st, h, p = c.req("PUT", f"/api/posts/{n + 1000}/like", headers=c.auth)
    c.expect(r, st == 404 and isinstance(p, dict) and p.get("error") == "Post not found",
             '404 {"error": "Post not found"}', f"{st} {p}")

    r = f"PUT /api/posts/{target}/like (no token)"
    st, h, p = c.req("PUT", f"/api/posts/{target}/like")
    c.expect(r, st == 401, "401", f"{st} {p}")

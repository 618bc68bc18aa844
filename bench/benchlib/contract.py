"""The contract check: postbase and Flask must do the same work for the benchmark to compare.

Every server gets the same requests: the reads first (whose bodies must then be identical across
servers, the data being the same), then the writes. The posts, tokens and users routes are here;
comments, likes and tags in contract_social.py.
"""

import re

from .common import PASSWORD, author_of, cursor_for, post_etag, seeded_counts, tags_of, token_for
from .server import call

# What a user shows besides id, username and created_at: the profile and its counts.
PROFILE = {"bio", "image", "follower_count", "following_count", "post_count"}
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
POST_KEYS = {"id", "title", "body", "summary", "author_id", "tags", "like_count", "comment_count",
             "created_at", "updated_at"}


class Probe:
    """One server under check: sends requests, records what deviates and the read bodies."""

    def __init__(self, name, port, n_posts, problems, ref_bodies):
        self.name, self.port, self.n_posts = name, port, n_posts
        self.problems, self.ref_bodies = problems, ref_bodies
        self.uid = 7
        self.auth = {"Authorization": f"Bearer {token_for(self.uid)}"}

    def expect(self, request, ok, expected, got):
        if not ok:
            self.problems.append((self.name, request, expected, got))

    def req(self, method, path, body=None, headers=None):
        try:
            return call(self.port, method, path, body, headers)
        except OSError as e:
            return None, {}, f"connection error: {e}"

    def keep(self, request, payload):
        """A read's body, to compare across servers."""
        self.ref_bodies.setdefault(request, {})[self.name] = payload

    def post_shape(self, request, payload, viewer=False):
        """A post object; `liked` is in it exactly when the request carried a token."""
        keys = POST_KEYS | {"liked"} if viewer else POST_KEYS
        ok = isinstance(payload, dict) and set(payload) == keys and \
            TS_RE.match(str(payload.get("created_at"))) and TS_RE.match(str(payload.get("updated_at")))
        self.expect(request, ok, f"a post object with exactly {sorted(keys)}, RFC 3339 µs timestamps",
                    payload)


def contract_check(servers, n_posts):
    """Send each benchmarked request to every server and compare with the contract.

    Returns a list of problems: (server, request, expected, got)."""
    from .contract_social import social_reads, social_writes
    problems = []
    ref_bodies = {}
    for name, port in servers.items():
        c = Probe(name, port, n_posts, problems, ref_bodies)
        posts_reads(c)
        social_reads(c)
        posts_writes(c)
        social_writes(c)

    # Same data, same answers: the read bodies must be identical across servers.
    for request, bodies in ref_bodies.items():
        if "postbase" in bodies and "flask" in bodies and bodies["postbase"] != bodies["flask"]:
            problems.append(("postbase vs flask", request, f"flask: {bodies['flask']}",
                             f"postbase: {bodies['postbase']}"))
    return problems


def posts_reads(c):
    deep = cursor_for(b"p", 5000)
    r = "GET /api/posts/1"
    st, h, p = c.req("GET", "/api/posts/1")
    c.expect(r, st == 200, "200", f"{st} {p}")
    c.post_shape(r, p)
    likes, comments = seeded_counts(1, c.n_posts)
    if isinstance(p, dict):
        c.expect(r, p.get("tags") == tags_of(1) and p.get("like_count") == likes and p.get("comment_count") == comments,
                 f"tags {tags_of(1)}, like_count {likes}, comment_count {comments}", p)
    etag = post_etag(1, 1, c.n_posts)
    c.expect(r, h.get("etag") == etag, f"ETag: {etag}", h.get("etag"))
    c.expect(r, "authorization" in h.get("vary", "").lower(), "Vary: Authorization", h.get("vary"))
    c.keep(r, p)

    r = "GET /api/posts/1 (token of user1, who likes it)"
    st, h, p = c.req("GET", "/api/posts/1", headers={"Authorization": f"Bearer {token_for(1)}"})
    c.post_shape(r, p, viewer=True)
    c.expect(r, st == 200 and isinstance(p, dict) and p.get("liked") is True, '200, "liked": true', f"{st} {p}")
    etag = post_etag(1, 1, c.n_posts, liked=True)
    c.expect(r, h.get("etag") == etag, f"ETag: {etag}", h.get("etag"))
    c.keep(r, p)

    r = f"GET /api/posts/{c.n_posts + 1000}"
    st, h, p = c.req("GET", f"/api/posts/{c.n_posts + 1000}")
    c.expect(r, st == 404 and isinstance(p, dict) and p.get("error") == "Post not found",
             '404 {"error": "Post not found"}', f"{st} {p}")

    r = "GET /api/profile (Bearer token of user7)"
    st, h, p = c.req("GET", "/api/profile", headers=c.auth)
    c.expect(r, st == 200 and isinstance(p, dict) and p.get("id") == c.uid and p.get("username") == f"user{c.uid}"
             and p.get("email") == f"user{c.uid}@example.com" and set(p) == {"id", "username", "created_at", "email", "admin"} | PROFILE
             and p.get("admin") is False,
             "200 {id: 7, username: user7, email: user7@example.com, admin: false, bio, image, counts, created_at}",
             f"{st} {p}")
    c.keep(r, p)

    r = "GET /api/profile (bad token)"
    st, h, p = c.req("GET", "/api/profile", headers={"Authorization": "Bearer pb_" + "A" * 43})
    c.expect(r, st == 401 and isinstance(p, dict) and p.get("error") == "Invalid token"
             and h.get("www-authenticate", "").startswith("Bearer"),
             '401 {"error": "Invalid token"} + WWW-Authenticate: Bearer',
             f"{st} {p} www-authenticate={h.get('www-authenticate')}")

    r = "GET /api/posts?limit=20"
    st, h, p = c.req("GET", "/api/posts?limit=20")
    ids = [x.get("id") for x in p.get("posts", [])] if isinstance(p, dict) else None
    c.expect(r, st == 200 and ids == list(range(c.n_posts, c.n_posts - 20, -1)),
             f"200, posts ids {c.n_posts}..{c.n_posts - 19} newest first", f"{st} ids={ids}")
    want_cursor = cursor_for(b"p", c.n_posts - 19)
    c.expect(r, isinstance(p, dict) and p.get("next_cursor") == want_cursor,
             f"next_cursor {want_cursor}", p.get("next_cursor") if isinstance(p, dict) else p)
    c.expect(r, f"cursor={want_cursor}" in h.get("link", "") and 'rel="next"' in h.get("link", ""),
             f'Link: </api/posts?...cursor={want_cursor}...>; rel="next"', h.get("link"))
    c.keep(r, p)

    r = f"GET /api/posts?limit=20&cursor={deep} (cursor of id 5000)"
    st, h, p = c.req("GET", f"/api/posts?limit=20&cursor={deep}")
    ids = [x.get("id") for x in p.get("posts", [])] if isinstance(p, dict) else None
    c.expect(r, st == 200 and ids == list(range(4999, 4979, -1)) and p.get("next_cursor") == cursor_for(b"p", 4980),
             f"200, posts 4999..4980, next_cursor {cursor_for(b'p', 4980)}",
             f"{st} ids={ids} next_cursor={p.get('next_cursor') if isinstance(p, dict) else p}")
    c.keep(r, p)

    r = "GET /api/posts?cursor=<tampered>"
    bad = deep[:-2] + ("AA" if deep[-2:] != "AA" else "BB")
    st, h, p = c.req("GET", f"/api/posts?cursor={bad}")
    c.expect(r, st == 400 and isinstance(p, dict) and p.get("error") == "Invalid cursor",
             '400 {"error": "Invalid cursor"}', f"{st} {p}")


def posts_writes(c):
    own_post = next(p for p in range(c.n_posts, 0, -1) if author_of(p) == c.uid)
    other_post = own_post - 1
    r = 'POST /api/posts {"title": "Contract check", "body": "x"} (token of user7)'
    st, h, p = c.req("POST", "/api/posts", {"title": "Contract check", "body": "x"}, c.auth)
    c.expect(r, st == 201, "201", f"{st} {p}")
    c.post_shape(r, p)  # a write's answer shows the post as anyone sees it: no "liked"
    if isinstance(p, dict):
        c.expect(r, p.get("author_id") == c.uid and p.get("title") == "Contract check",
                 "author_id 7, title 'Contract check'", p)
        c.expect(r, h.get("location") == f"/api/posts/{p.get('id')}",
                 f"Location: /api/posts/{p.get('id')}", h.get("location"))

    r = 'POST /api/posts {"title": "x"} (no token)'
    st, h, p = c.req("POST", "/api/posts", {"title": "x"})
    c.expect(r, st == 401, "401", f"{st} {p}")

    r = 'POST /api/posts {"body": "no title"} (token)'
    st, h, p = c.req("POST", "/api/posts", {"body": "no title"}, c.auth)
    c.expect(r, st == 400 and isinstance(p, dict) and p.get("error") == "Title required",
             '400 {"error": "Title required"}', f"{st} {p}")

    r = f'PATCH /api/posts/{own_post} {{"title": "Edited"}} (author\'s token)'
    st, h, p = c.req("PATCH", f"/api/posts/{own_post}", {"title": "Edited"}, c.auth)
    c.expect(r, st == 200 and isinstance(p, dict) and p.get("title") == "Edited" and p.get("id") == own_post
             and p.get("body", "").startswith("Lorem") and p.get("tags") == tags_of(own_post),
             "200, title Edited, body and tags unchanged", f"{st} {p}")
    etag = post_etag(2, own_post, c.n_posts)
    c.expect(r, h.get("etag") == etag, f"ETag: {etag}", h.get("etag"))

    r = f'PATCH /api/posts/{other_post} {{"title": "x"}} (another user\'s token)'
    st, h, p = c.req("PATCH", f"/api/posts/{other_post}", {"title": "x"}, c.auth)
    c.expect(r, st == 403, "403", f"{st} {p}")

    r = 'POST /api/tokens {"username": "user7", "password": <right>}'
    st, h, p = c.req("POST", "/api/tokens", {"username": f"user{c.uid}", "password": PASSWORD})
    ok = st == 201 and isinstance(p, dict) and re.match(r"^pb_[A-Za-z0-9_-]{43}$", str(p.get("token"))) \
        and TS_RE.match(str(p.get("expires_at"))) and isinstance(p.get("user"), dict) \
        and p["user"].get("id") == c.uid
    c.expect(r, ok, "201 {token: pb_<43>, expires_at, user: {id: 7, ...}}", f"{st} {p}")
    if ok:
        st2, _, p2 = c.req("GET", "/api/profile", headers={"Authorization": f"Bearer {p['token']}"})
        c.expect("GET /api/profile with the token just issued", st2 == 200, "200", f"{st2} {p2}")

    r = 'POST /api/tokens {"username": "user7", "password": <wrong>}'
    st, h, p = c.req("POST", "/api/tokens", {"username": f"user{c.uid}", "password": "wrong-password"})
    c.expect(r, st == 401 and isinstance(p, dict) and p.get("error") == "Invalid username or password",
             '401 {"error": "Invalid username or password"}', f"{st} {p}")

    r = 'POST /api/users {"username": "newcomer", "password": "long-enough-pw"}'
    st, h, p = c.req("POST", "/api/users", {"username": "newcomer", "password": "long-enough-pw"})
    c.expect(r, st == 201 and isinstance(p, dict) and p.get("username") == "newcomer"
             and set(p) == {"id", "username", "created_at"} | PROFILE
             and h.get("location") == f"/api/users/{p.get('id')}",
             "201 {id, username, bio, image, counts, created_at} + Location /api/users/{id}",
             f"{st} {p} location={h.get('location')}")
    st, h, p = c.req("POST", "/api/users", {"username": "newcomer", "password": "long-enough-pw"})
    c.expect(r + " again", st == 409 and isinstance(p, dict) and p.get("error") == "Username already taken",
             '409 {"error": "Username already taken"}', f"{st} {p}")

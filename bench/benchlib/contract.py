"""The contract check: postbase and Flask must do the same work for the benchmark to compare."""

import re

from .common import PASSWORD, author_of, cursor_for, token_for
from .server import call


def contract_check(servers, n_posts):
    """Send each benchmarked request to every server and compare with the contract.

    Returns a list of problems: (server, request, expected, got)."""
    problems = []
    ref_bodies = {}
    uid = 7
    auth = {"Authorization": f"Bearer {token_for(uid)}"}
    own_post = next(p for p in range(n_posts, 0, -1) if author_of(p) == uid)
    other_post = own_post - 1
    deep = cursor_for(b"p", 5000)
    post_keys = {"id", "title", "body", "author_id", "created_at", "updated_at"}
    ts_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

    for name, port in servers.items():
        def expect(request, ok, expected, got):
            if not ok:
                problems.append((name, request, expected, got))

        def req(method, path, body=None, headers=None):
            try:
                return call(port, method, path, body, headers)
            except OSError as e:
                return None, {}, f"connection error: {e}"

        def check_post_shape(request, payload):
            ok = isinstance(payload, dict) and set(payload) == post_keys and \
                ts_re.match(str(payload.get("created_at"))) and ts_re.match(str(payload.get("updated_at")))
            expect(request, ok, f"a post object with exactly {sorted(post_keys)}, RFC 3339 µs timestamps",
                   payload)

        r = "GET /api/posts/1"
        st, h, p = req("GET", "/api/posts/1")
        expect(r, st == 200, "200", f"{st} {p}")
        check_post_shape(r, p)
        expect(r, h.get("etag") == '"1"', 'ETag: "1"', h.get("etag"))
        ref_bodies.setdefault(r, {})[name] = p

        r = f"GET /api/posts/{n_posts + 1000}"
        st, h, p = req("GET", f"/api/posts/{n_posts + 1000}")
        expect(r, st == 404 and isinstance(p, dict) and p.get("error") == "Post not found",
               '404 {"error": "Post not found"}', f"{st} {p}")

        r = "GET /api/profile (Bearer token of user7)"
        st, h, p = req("GET", "/api/profile", headers=auth)
        expect(r, st == 200 and isinstance(p, dict) and p.get("id") == uid and p.get("username") == f"user{uid}"
               and p.get("email") == f"user{uid}@example.com" and set(p) == {"id", "username", "created_at", "email"},
               "200 {id: 7, username: user7, created_at, email: user7@example.com}", f"{st} {p}")
        ref_bodies.setdefault(r, {})[name] = p

        r = "GET /api/profile (bad token)"
        st, h, p = req("GET", "/api/profile", headers={"Authorization": "Bearer pb_" + "A" * 43})
        expect(r, st == 401 and isinstance(p, dict) and p.get("error") == "Invalid token"
               and h.get("www-authenticate", "").startswith("Bearer"),
               '401 {"error": "Invalid token"} + WWW-Authenticate: Bearer',
               f"{st} {p} www-authenticate={h.get('www-authenticate')}")

        r = "GET /api/posts?limit=20"
        st, h, p = req("GET", "/api/posts?limit=20")
        ids = [x.get("id") for x in p.get("posts", [])] if isinstance(p, dict) else None
        expect(r, st == 200 and ids == list(range(n_posts, n_posts - 20, -1)),
               f"200, posts ids {n_posts}..{n_posts - 19} newest first", f"{st} ids={ids}")
        want_cursor = cursor_for(b"p", n_posts - 19)
        expect(r, isinstance(p, dict) and p.get("next_cursor") == want_cursor,
               f"next_cursor {want_cursor}", p.get("next_cursor") if isinstance(p, dict) else p)
        expect(r, f"cursor={want_cursor}" in h.get("link", "") and 'rel="next"' in h.get("link", ""),
               f'Link: </api/posts?...cursor={want_cursor}...>; rel="next"', h.get("link"))
        ref_bodies.setdefault(r, {})[name] = p

        r = f"GET /api/posts?limit=20&cursor={deep} (cursor of id 5000)"
        st, h, p = req("GET", f"/api/posts?limit=20&cursor={deep}")
        ids = [x.get("id") for x in p.get("posts", [])] if isinstance(p, dict) else None
        expect(r, st == 200 and ids == list(range(4999, 4979, -1)) and p.get("next_cursor") == cursor_for(b"p", 4980),
               f"200, posts 4999..4980, next_cursor {cursor_for(b'p', 4980)}",
               f"{st} ids={ids} next_cursor={p.get('next_cursor') if isinstance(p, dict) else p}")
        ref_bodies.setdefault(r, {})[name] = p

        r = "GET /api/posts?cursor=<tampered>"
        bad = deep[:-2] + ("AA" if deep[-2:] != "AA" else "BB")
        st, h, p = req("GET", f"/api/posts?cursor={bad}")
        expect(r, st == 400 and isinstance(p, dict) and p.get("error") == "Invalid cursor",
               '400 {"error": "Invalid cursor"}', f"{st} {p}")

        r = 'POST /api/posts {"title": "Contract check", "body": "x"} (token of user7)'
        st, h, p = req("POST", "/api/posts", {"title": "Contract check", "body": "x"}, auth)
        expect(r, st == 201, "201", f"{st} {p}")
        check_post_shape(r, p)
        if isinstance(p, dict):
            expect(r, p.get("author_id") == uid and p.get("title") == "Contract check",
                   "author_id 7, title 'Contract check'", p)
            expect(r, h.get("location") == f"/api/posts/{p.get('id')}",
                   f"Location: /api/posts/{p.get('id')}", h.get("location"))

        r = 'POST /api/posts {"title": "x"} (no token)'
        st, h, p = req("POST", "/api/posts", {"title": "x"})
        expect(r, st == 401, "401", f"{st} {p}")

        r = 'POST /api/posts {"body": "no title"} (token)'
        st, h, p = req("POST", "/api/posts", {"body": "no title"}, auth)
        expect(r, st == 400 and isinstance(p, dict) and p.get("error") == "Title required",
               '400 {"error": "Title required"}', f"{st} {p}")

        r = f'PATCH /api/posts/{own_post} {{"title": "Edited"}} (author\'s token)'
        st, h, p = req("PATCH", f"/api/posts/{own_post}", {"title": "Edited"}, auth)
        expect(r, st == 200 and isinstance(p, dict) and p.get("title") == "Edited" and p.get("id") == own_post
               and p.get("body", "").startswith("Lorem"),
               "200, title Edited, body unchanged", f"{st} {p}")
        expect(r, h.get("etag") == '"2"', 'ETag: "2"', h.get("etag"))

        r = f'PATCH /api/posts/{other_post} {{"title": "x"}} (another user\'s token)'
        st, h, p = req("PATCH", f"/api/posts/{other_post}", {"title": "x"}, auth)
        expect(r, st == 403, "403", f"{st} {p}")

        r = 'POST /api/tokens {"username": "user7", "password": <right>}'
        st, h, p = req("POST", "/api/tokens", {"username": f"user{uid}", "password": PASSWORD})
        ok = st == 201 and isinstance(p, dict) and re.match(r"^pb_[A-Za-z0-9_-]{43}$", str(p.get("token"))) \
            and ts_re.match(str(p.get("expires_at"))) and isinstance(p.get("user"), dict) \
            and p["user"].get("id") == uid
        expect(r, ok, "201 {token: pb_<43>, expires_at, user: {id: 7, ...}}", f"{st} {p}")
        if ok:
            st2, _, p2 = req("GET", "/api/profile", headers={"Authorization": f"Bearer {p['token']}"})
            expect("GET /api/profile with the token just issued", st2 == 200, "200", f"{st2} {p2}")

        r = 'POST /api/tokens {"username": "user7", "password": <wrong>}'
        st, h, p = req("POST", "/api/tokens", {"username": f"user{uid}", "password": "wrong-password"})
        expect(r, st == 401 and isinstance(p, dict) and p.get("error") == "Invalid username or password",
               '401 {"error": "Invalid username or password"}', f"{st} {p}")

        r = 'POST /api/users {"username": "newcomer", "password": "long-enough-pw"}'
        st, h, p = req("POST", "/api/users", {"username": "newcomer", "password": "long-enough-pw"})
        expect(r, st == 201 and isinstance(p, dict) and p.get("username") == "newcomer"
               and set(p) == {"id", "username", "created_at"}
               and h.get("location") == f"/api/users/{p.get('id')}",
               "201 {id, username, created_at} + Location /api/users/{id}",
               f"{st} {p} location={h.get('location')}")
        st, h, p = req("POST", "/api/users", {"username": "newcomer", "password": "long-enough-pw"})
        expect(r + " again", st == 409 and isinstance(p, dict) and p.get("error") == "Username already taken",
               '409 {"error": "Username already taken"}', f"{st} {p}")

    # Same data, same answers: the read bodies must be identical across servers.
    for request, bodies in ref_bodies.items():
        if "postbase" in bodies and "flask" in bodies and bodies["postbase"] != bodies["flask"]:
            problems.append(("postbase vs flask", request, f"flask: {bodies['flask']}",
                             f"postbase: {bodies['postbase']}"))
    return problems


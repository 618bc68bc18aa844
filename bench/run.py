#!/usr/bin/env python3
"""postbase vs. the Flask tutorial stack (and a bare axum + rusqlite server).

Run through `bench/run`, which makes the venv this needs. Steps:

1. build `postbase` and `postbase-bare-ref` in release (skip with --no-build);
2. seed one SQLite database (schema from `postbase migrate`, then 1,000 users,
   100,000 posts and one token per user, written directly with sqlite3);
3. check that postbase and the Flask reference answer the benchmarked routes
   alike (a contract smoke check; deviations are printed, not hidden);
4. for each workload start every server on its own copy of the database and
   run wrk against them in alternation (A B [C] A B [C] ...), same settings;
5. measure postbase's idle RSS and its RSS while holding 1,000 keep-alive
   connections;
6. print the table and write bench/results/results.json, results.md and
   chart.png.
"""

import argparse
import asyncio
import base64
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "target"
WORK = TARGET / "bench-work"
RESULTS = ROOT / "bench" / "results"
FLASK_DIR = ROOT / "bench" / "flask_ref"
# Set by --profile: target/release (default) or target/debug (CI smoke runs reuse the test build).
POSTBASE_BIN = TARGET / "release" / "postbase"
BARE_BIN = TARGET / "release" / "postbase-bare-ref"
BARE_READS = "inline"  # --bare-reads: where the bare server runs its reads

PASSWORD = "benchmark-password"
N_USERS = 1000
N_POSTS = 100_000
BASE_TS_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token_for(user_id):
    """The known token of a seeded user: pb_ + 43 chars of base64url."""
    return "pb_" + b64url(hashlib.sha256(f"postbase-bench-token-{user_id}".encode()).digest())


def cursor_for(kind, last_id):
    id_be = last_id.to_bytes(8, "big")
    tag = hashlib.sha256(b"postbase-cursor-v1" + kind + id_be).digest()[:8]
    return b64url(kind + id_be + tag)


def author_of(post_id):
    return (post_id - 1) % N_USERS + 1


# --------------------------------------------------------------------------
# build, tools
# --------------------------------------------------------------------------

def run_cmd(cmd, **kw):
    """Run a command, its output on stderr so stdout keeps only the results."""
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, stdout=sys.stderr, **kw)


def build(profile):
    run_cmd(["cargo", "build", "--profile", profile, "--bin", "postbase"], cwd=ROOT)
    if re.search(r'members\s*=\s*\[[^\]]*"bench/bare"', (ROOT / "Cargo.toml").read_text()):
        run_cmd(["cargo", "build", "--profile", profile, "-p", "postbase-bare-ref"], cwd=ROOT)
    else:  # root not (yet) a workspace: build the package on its own, same target dir
        env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET))
        run_cmd(["cargo", "build", "--profile", profile, "--manifest-path",
                 str(ROOT / "bench" / "bare" / "Cargo.toml")], cwd=ROOT, env=env)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("wrk not found: installing it with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    apt = sudo + ["apt-get", "-o", "DPkg::Lock::Timeout=300", "-y", "-q"]
    if subprocess.run(apt + ["install", "wrk"], env=env).returncode != 0:
        run_cmd(apt + ["update"], env=env)
        run_cmd(apt + ["install", "wrk"], env=env)
    if not shutil.which("wrk"):
        sys.exit("wrk is required (apt-get install wrk)")


# --------------------------------------------------------------------------
# seed
# --------------------------------------------------------------------------

def argon2_hash(password):
    from argon2 import PasswordHasher
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1,
                          hash_len=32, salt_len=16).hash(password)


def argon2_seconds():
    """Time of one argon2id verify (m=19456 t=2 p=1), argon2-cffi's C code."""
    from argon2 import PasswordHasher
    ph = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    h = ph.hash(PASSWORD)
    times = []
    for _ in range(7):
        t = time.perf_counter()
        ph.verify(h, PASSWORD)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def create_schema(db, schema_sql):
    if schema_sql:
        conn = sqlite3.connect(db)
        conn.executescript(Path(schema_sql).read_text())
        conn.close()
    else:
        run_cmd([str(POSTBASE_BIN), "migrate", "--database-url", f"sqlite://{db}"],
                env=dict(os.environ, RUST_LOG="warn"))


def seed(db, n_posts, schema_sql=None):
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    create_schema(db, schema_sql)
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    if not {"users", "tokens", "posts"} <= tables:
        sys.exit(f"the schema was not created in {db} (tables: {sorted(tables)}); is {POSTBASE_BIN} current?")
    t0 = time.time()
    pw_hash = argon2_hash(PASSWORD)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    far = BASE_TS_US + 10 * 365 * 86400 * 10**6
    with conn:
        conn.executemany(
            "INSERT INTO users (id, username, email, password_hash, admin, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 0, 1, ?, ?)",
            ((u, f"user{u}", f"user{u}@example.com", pw_hash, BASE_TS_US + u, BASE_TS_US + u)
             for u in range(1, N_USERS + 1)))
        conn.executemany(
            "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            ((hashlib.sha256(token_for(u).encode()).digest(), u, BASE_TS_US, far)
             for u in range(1, N_USERS + 1)))
        body = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
                "tempor incididunt ut labore et dolore magna aliqua. ")

        def rows():
            for p in range(1, n_posts + 1):
                ts = BASE_TS_US + 10**9 + p * 1_000_000
                yield (p, author_of(p), f"Post number {p}", f"{body}#{p}", ts, ts)
        conn.executemany(
            "INSERT INTO posts (id, author_id, title, body, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 1, ?, ?)", rows())
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    log(f"seeded {db.name}: {N_USERS} users, {n_posts} posts, {N_USERS} tokens "
        f"in {time.time() - t0:.1f}s ({db.stat().st_size / 2**20:.0f} MiB)")


def copy_db(src, dst):
    for suffix in ("", "-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copyfile(src, dst)


# --------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw.decode(errors="replace")
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload


class Server:
    def __init__(self, kind, db, flask_workers=4):
        self.kind = kind
        self.db = db
        self.port = free_port()
        self.log_path = WORK / f"{kind}.log"
        addr = f"127.0.0.1:{self.port}"
        env = dict(os.environ)
        if kind == "postbase":
            cmd = [str(POSTBASE_BIN), "serve", "--addr", addr, "--database-url", f"sqlite://{db}"]
            env["RUST_LOG"] = "warn"
        elif kind == "bare":
            cmd = [str(BARE_BIN), addr, str(db)]
            env["BARE_READS"] = BARE_READS
        elif kind == "flask":
            venv_bin = Path(sys.executable).parent
            cmd = [str(venv_bin / "gunicorn"), "--workers", str(flask_workers), "--bind", addr,
                   "--chdir", str(FLASK_DIR), "--log-level", "warning", "app:app"]
            env["POSTBASE_BENCH_DB"] = str(db)
        else:
            raise ValueError(kind)
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if call(self.port, "GET", "/healthz", timeout=1)[0] == 200:
                    if self.kind == "flask":  # wait until every worker has booted
                        while len(self.pids()) < 2:
                            time.sleep(0.05)
                        time.sleep(0.5)
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.kind} did not become ready; see {self.log_path}")

    def pids(self):
        """The server's process and all its descendants (gunicorn: master + workers)."""
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo.extend(int(c) for c in f.read().split())
            except OSError:
                pass
        return out

    def mem_kib(self, field):
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith(field + ":"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total

    def reset_peak(self):
        """Reset VmHWM to the current RSS (Linux >= 4.0), so each workload has its own peak."""
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                pass

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logf.close()


# --------------------------------------------------------------------------
# contract check: postbase and Flask must do the same work
# --------------------------------------------------------------------------

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


# --------------------------------------------------------------------------
# load generation (wrk + Lua)
# --------------------------------------------------------------------------

LUA_COMMON = r"""
local tokens = {%(tokens)s}
local cursors = {%(cursors)s}
local n_posts = %(n_posts)d
local n_users = %(n_users)d
local password = "%(password)s"
local json_headers = {["Content-Type"] = "application/json"}

function init(args)
  local addr = tonumber(tostring({}):match("0x(%%x+)"), 16) or 0
  math.randomseed(os.time() + addr %% 1000003)
end

local function auth(user)
  return {["Authorization"] = "Bearer " .. tokens[user], ["Content-Type"] = "application/json"}
end

local function get_post()
  return wrk.format("GET", "/api/posts/" .. math.random(1, n_posts))
end

local function create_post()
  local u = math.random(1, n_users)
  return wrk.format("POST", "/api/posts", auth(u),
    '{"title":"Benchmark post","body":"Written by the postbase benchmark, one row per request."}')
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,' ..
    '"errors_connect":%%d,"errors_read":%%d,"errors_write":%%d,"errors_status":%%d,"errors_timeout":%%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""

LUA_WORKLOADS = {
    "get_post": "request = get_post",
    "profile": r"""
request = function()
  return wrk.format("GET", "/api/profile", auth(math.random(1, n_users)))
end""",
    "list_newest": r"""
request = function()
  return wrk.format("GET", "/api/posts?limit=20")
end""",
    "list_deep": r"""
request = function()
  return wrk.format("GET", "/api/posts?limit=20&cursor=" .. cursors[math.random(1, #cursors)])
end""",
    "create_post": "request = create_post",
    "patch_post": r"""
request = function()
  local p = math.random(1, n_posts)
  local u = (p - 1) % n_users + 1
  return wrk.format("PATCH", "/api/posts/" .. p, auth(u), '{"title":"Edited by the benchmark"}')
end""",
    "login": r"""
request = function()
  local u = math.random(1, n_users)
  return wrk.format("POST", "/api/tokens", json_headers,
    '{"username":"user' .. u .. '","password":"' .. password .. '"}')
end""",
    "mix_90_10": r"""
request = function()
  if math.random() < 0.1 then return create_post() end
  return get_post()
end""",
}

WORKLOADS = [
    # (name, description, servers)
    ("get_post", "GET /api/posts/{random id}", ("postbase", "flask", "bare")),
    ("profile", "GET /api/profile, Bearer token of a random user", ("postbase", "flask")),
    ("list_newest", "GET /api/posts?limit=20 (newest first)", ("postbase", "flask")),
    ("list_deep", "GET /api/posts?limit=20&cursor=<random id in the oldest 1-10% (1,000..10,000)>", ("postbase", "flask")),
    ("create_post", "POST /api/posts with a token", ("postbase", "flask", "bare")),
    ("patch_post", "PATCH /api/posts/{random id}, author's token", ("postbase", "flask")),
    ("login", "POST /api/tokens (argon2id verify + token insert)", ("postbase", "flask")),
    ("mix_90_10", "90% GET /api/posts/{id}, 10% POST /api/posts", ("postbase", "flask")),
    ("read_in_login_storm", "GET /api/posts/{id} on 8 connections while the login workload runs "
     "on the others", ("postbase", "flask")),
]
STORM_READERS = 8  # connections of the reader during the login storm


def write_lua(n_posts, where):
    """One wrk script per workload; deep cursors point at ids in the oldest 1%-10% of the table."""
    rng = random.Random(5)
    lo, hi = max(2, n_posts // 100), max(3, n_posts // 10)
    cursors = [cursor_for(b"p", rng.randint(lo, hi)) for _ in range(256)]
    where.mkdir(parents=True, exist_ok=True)
    common = LUA_COMMON % {
        "tokens": ",".join(f'"{token_for(u)}"' for u in range(1, N_USERS + 1)),
        "cursors": ",".join(f'"{c}"' for c in cursors),
        "n_posts": n_posts, "n_users": N_USERS, "password": PASSWORD,
    }
    paths = {}
    for name, body in LUA_WORKLOADS.items():
        path = where / f"{name}.lua"
        path.write_text(common + body + "\n")
        paths[name] = path
    return paths


def wrk(port, script, duration, connections, threads):
    threads = max(1, min(threads, connections))
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
           "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(proc):
    out, _ = proc.communicate()
    for line in out.splitlines():
        if line.startswith("BENCHJSON "):
            r = json.loads(line[len("BENCHJSON "):])
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
            r["errors"] = sum(v for k, v in r.items() if k.startswith("errors_"))
            if r["requests"] == 0:  # wrk reports 0 latencies when nothing completed
                r["p50_us"] = r["p90_us"] = r["p99_us"] = r["max_us"] = None
            return r
    raise RuntimeError("wrk gave no result:\n" + out)


def run_wrk(port, script, duration, connections, threads):
    return wrk_result(wrk(port, script, duration, connections, threads))


def one_run(name, server, lua, duration, args):
    """One wrk run of a workload against one server; the storm runs two wrk at once."""
    if name != "read_in_login_storm":
        return run_wrk(server.port, lua[name], duration, args.connections, args.threads)
    storm = wrk(server.port, lua["login"], duration, max(1, args.connections - STORM_READERS), args.threads)
    reads = wrk(server.port, lua["get_post"], duration, STORM_READERS, 1)
    r = wrk_result(reads)
    login = wrk_result(storm)
    r["login_rps"] = login["rps"]
    r["errors"] += login["errors"]
    return r


def measure(name, kinds, seed_db, lua, args):
    """Start each server on its own copy of seed_db, warm up, then A B (C) rounds."""
    running = {}
    runs = {k: [] for k in kinds}
    try:
        for kind in kinds:
            db = WORK / f"{name}-{kind}.db"
            copy_db(seed_db, db)
            running[kind] = Server(kind, db, args.flask_workers)
        for kind in kinds:
            if args.warmup > 0:
                one_run(name, running[kind], lua, args.warmup, args)
            running[kind].reset_peak()
        for rnd in range(args.rounds):
            for kind in kinds:  # A B (C), A B (C), ...
                r = one_run(name, running[kind], lua, args.duration, args)
                r["peak_rss_kib"] = running[kind].mem_kib("VmHWM")
                runs[kind].append(r)
                log(f"   round {rnd + 1} {kind:8s} {r['rps']:10,.0f} req/s  p50 {fmt_ms(r['p50_us']):>7} ms"
                    f"  p99 {fmt_ms(r['p99_us']):>8} ms  peak {r['peak_rss_kib'] / 1024:6.1f} MiB"
                    + (f"  (logins {r['login_rps']:,.0f}/s)" if "login_rps" in r else "")
                    + (f"  ERRORS {r['errors']}" if r["errors"] else ""))
    finally:
        for s in running.values():
            s.stop()
    return {k: summarize(v) for k, v in runs.items()}


def sweep_flask_workers(counts, workloads, seed_db, lua, args, out_dir):
    """Which gunicorn worker count serves Flask best here: every count side by side, in alternation."""
    table = {}
    for name in workloads:
        log(f"== sweep {name}: gunicorn workers {counts}, {args.rounds} rounds x {args.duration:g}s")
        running, runs = {}, {w: [] for w in counts}
        try:
            for w in counts:
                db = WORK / f"sweep-{name}-{w}.db"
                copy_db(seed_db, db)
                running[w] = Server("flask", db, w)
            for w in counts:
                if args.warmup > 0:
                    one_run(name, running[w], lua, args.warmup, args)
            for rnd in range(args.rounds):
                for w in counts:
                    r = one_run(name, running[w], lua, args.duration, args)
                    runs[w].append(r)
                    log(f"   round {rnd + 1} workers {w:2d} {r['rps']:8,.0f} req/s  p99 {fmt_ms(r['p99_us']):>8} ms")
        finally:
            for srv in running.values():
                srv.stop()
        table[name] = {w: summarize(v) for w, v in runs.items()}
    header = ["workers"] + [f"{n} req/s (p99 ms)" for n in workloads]
    rows = [[str(w)] + [f"{table[n][w]['rps']:,.0f} ({fmt_ms(table[n][w]['p99_us'])})" for n in workloads]
            for w in counts]
    print(render_text(header, rows))
    (out_dir / "flask-workers.md").write_text(render_markdown(header, rows) + "\n")
    (out_dir / "flask-workers.json").write_text(json.dumps(
        {"settings": {"rounds": args.rounds, "duration_s": args.duration, "connections": args.connections},
         "results": {n: {str(w): v for w, v in t.items()} for n, t in table.items()}}, indent=2) + "\n")


# --------------------------------------------------------------------------
# memory with 1,000 keep-alive connections
# --------------------------------------------------------------------------

async def hold_connections(port, n, hold_s, sample):
    """Open n connections, make one keep-alive request on each, hold them all open."""
    conns = []
    ok = 0
    try:
        for i in range(n):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            conns.append((reader, writer))

        async def one(i, reader, writer):
            writer.write(f"GET /api/posts/{i + 1} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            await reader.readexactly(length)
            return head.startswith(b"HTTP/1.1 200")
        results = await asyncio.gather(*(one(i, r, w) for i, (r, w) in enumerate(conns)),
                                       return_exceptions=True)
        ok = sum(1 for x in results if x is True)
        await asyncio.sleep(hold_s)
        open_now = sum(1 for r, w in conns if not r.at_eof())
        return ok, open_now, sample()
    finally:
        for _, w in conns:
            w.close()


def memory_test(seed_db, conns):
    db = WORK / "mem-postbase.db"
    copy_db(seed_db, db)
    srv = Server("postbase", db)
    try:
        time.sleep(1.0)
        idle = srv.mem_kib("VmRSS")
        ok, open_now, held = asyncio.run(hold_connections(srv.port, conns, 1.0,
                                                          lambda: srv.mem_kib("VmRSS")))
        time.sleep(1.0)
        after = srv.mem_kib("VmRSS")
        hwm = srv.mem_kib("VmHWM")
    finally:
        srv.stop()
    return {"idle_rss_kib": idle, "connections": conns, "answered_200": ok,
            "still_open_after_hold": open_now, "rss_holding_kib": held,
            "rss_after_close_kib": after, "peak_rss_kib": hwm}


def idle_rss(kind, seed_db, flask_workers):
    db = WORK / f"idle-{kind}.db"
    copy_db(seed_db, db)
    srv = Server(kind, db, flask_workers)
    try:
        time.sleep(1.0)
        return srv.mem_kib("VmRSS")
    finally:
        srv.stop()


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_rps(x):
    return "-" if x is None else f"{x:,.0f}"


def fmt_ms(us):
    return "-" if us is None else f"{us / 1000:.2f}"


def fmt_mib(kib):
    return "-" if not kib else f"{kib / 1024:.1f}"


def summarize(runs):
    """Median over rounds for one server on one workload."""
    if not runs:
        return None
    return {
        "rps": median([r["rps"] for r in runs]),
        "p50_us": median([r["p50_us"] for r in runs]),
        "p99_us": median([r["p99_us"] for r in runs]),
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "peak_rss_kib": max(r.get("peak_rss_kib", 0) for r in runs),
        "rounds": [round(r["rps"], 1) for r in runs],
        **({"login_rps": median([r["login_rps"] for r in runs])} if "login_rps" in runs[0] else {}),
    }


def table_rows(results):
    header = ["workload", "postbase req/s", "Flask req/s", "ratio", "pb p50 ms", "pb p99 ms",
              "Flask p50 ms", "Flask p99 ms", "pb peak MiB", "Flask peak MiB", "bare req/s", "pb/bare"]
    rows = []
    for name, res in results.items():
        pb, fl, bare = res.get("postbase"), res.get("flask"), res.get("bare")
        ratio = pb["rps"] / fl["rps"] if pb and fl and fl["rps"] else None
        pb_bare = pb["rps"] / bare["rps"] if pb and bare and bare["rps"] else None
        rows.append([
            name,
            fmt_rps(pb and pb["rps"]), fmt_rps(fl and fl["rps"]),
            "-" if ratio is None else f"{ratio:.1f}x",
            fmt_ms(pb and pb["p50_us"]), fmt_ms(pb and pb["p99_us"]),
            fmt_ms(fl and fl["p50_us"]), fmt_ms(fl and fl["p99_us"]),
            fmt_mib(pb and pb["peak_rss_kib"]), fmt_mib(fl and fl["peak_rss_kib"]),
            fmt_rps(bare and bare["rps"]),
            "-" if pb_bare is None else f"{pb_bare * 100:.0f}%",
        ])
    return header, rows


def targets(results, memory, scale, hash_s, cores):
    """Issue 5's targets, each with what this run measured and whether it is met."""
    out = []

    def get(w, k, field="rps"):
        v = results.get(w, {}).get(k)
        return v[field] if v else None

    def add(target, measured, met):
        out.append([target, measured, "yes" if met else "NO"])

    for w in ("get_post", "profile", "list_newest"):
        pb, fl, bare = get(w, "postbase"), get(w, "flask"), get(w, "bare")
        if pb and fl:
            add(f"{w}: >= 15x Flask", f"{pb / fl:.1f}x", pb / fl >= 15)
        if pb and bare:
            add(f"{w}: >= 70% of bare", f"{pb / bare * 100:.0f}%", pb / bare >= 0.7)
        p99 = get(w, "postbase", "p99_us")
        if p99 is not None:
            add(f"{w}: p99 < 5 ms", f"{p99 / 1000:.2f} ms", p99 < 5000)
    for w in ("create_post", "patch_post"):
        pb, fl = get(w, "postbase"), get(w, "flask")
        if pb and fl:
            add(f"{w}: >= 20x Flask", f"{pb / fl:.1f}x", pb / fl >= 20)
    pb = get("login", "postbase")
    if pb:
        goal = 0.8 * cores / hash_s
        add(f"login: >= 0.8 x cores / argon2 time = {goal:.0f}/s", f"{pb:,.0f}/s", pb >= goal)
    if results.get("read_in_login_storm", {}).get("postbase"):
        p99 = get("read_in_login_storm", "postbase", "p99_us")
        add("reads during a login storm: p99 < 20 ms",
            "no read completed" if p99 is None else f"{p99 / 1000:.2f} ms", p99 is not None and p99 < 20000)
    if memory:
        # The limits are in MB (10^6 bytes); /proc reports KiB.
        add("idle RSS <= 20 MB", f"{memory['idle_rss_kib'] * 1024 / 1e6:.1f} MB", memory["idle_rss_kib"] * 1024 <= 20e6)
        add(f"RSS holding {memory['connections']} keep-alive connections <= 150 MB",
            f"{memory['rss_holding_kib'] * 1024 / 1e6:.1f} MB ({memory['answered_200']} answered)",
            memory["rss_holding_kib"] * 1024 <= 150e6 and memory["answered_200"] == memory["connections"])
    if scale:
        for w in ("list_newest", "list_deep"):
            a, b = scale.get(f"{w}@1000"), scale.get(f"{w}@1000000")
            if a and b:
                add(f"{w}: same cost at 1,000 and 1,000,000 posts (within 20%)",
                    f"{a['rps']:,.0f} vs {b['rps']:,.0f} req/s", b["rps"] >= 0.8 * a["rps"])
    return out


def render_text(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def render_markdown(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def chart(results, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    servers = [("postbase", "#d9480f"), ("flask", "#1c7ed6"), ("bare", "#868e96")]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 8.5))
    width = 0.27
    for i, (srv, color) in enumerate(servers):
        xs = [j + (i - 1) * width for j in range(len(names))]
        rps = [results[n][srv]["rps"] if results[n].get(srv) else 0 for n in names]
        p99 = [(results[n][srv]["p99_us"] or 0) / 1000 if results[n].get(srv) else 0 for n in names]
        label = {"flask": "Flask + gunicorn", "bare": "bare axum + rusqlite"}.get(srv, srv)
        bars = ax1.bar(xs, rps, width, label=label, color=color)
        ax1.bar_label(bars, labels=[f"{v:,.0f}" if v else "" for v in rps], fontsize=6, rotation=90, padding=2)
        ax2.bar(xs, p99, width, label=label, color=color)
    for ax in (ax1, ax2):
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, fontsize=8)
        ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    ax1.set_ylabel("requests/s (median of rounds, log)")
    ax1.set_title(title, fontsize=10)
    ax1.set_ylim(top=ax1.get_ylim()[1] * 4)  # room for the labels and the legend
    ax1.legend(fontsize=8, loc="upper center", ncol=3)
    ax2.set_ylabel("p99 latency ms (log)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="A/B rounds per workload (default 3)")
    ap.add_argument("--duration", type=float, default=8, help="seconds per wrk run (default 8)")
    ap.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per server and workload")
    ap.add_argument("--flask-workers", type=int, default=2,
                    help="gunicorn sync workers (default 2: best measured on 2 cores, see README)")
    ap.add_argument("--posts", type=int, default=N_POSTS, help="posts to seed (default 100,000)")
    ap.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS),
                    help="comma-separated subset of workloads")
    ap.add_argument("--servers", default="postbase,flask,bare", help="comma-separated subset of servers")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 round of 2 s, short warm-up, 200 connections held")
    ap.add_argument("--bare-reads", choices=("blocking", "inline"), default="inline",
                    help="bare server reads inline on the async worker, as postbase does (default), "
                         "or in spawn_blocking")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--profile", default="release", choices=("release", "dev"),
                    help="cargo profile to build and run (default release; dev = target/debug, for smoke runs only)")
    ap.add_argument("--schema-sql", help="create the schema from this SQL file instead of `postbase migrate`")
    ap.add_argument("--hold", type=int, default=1000, help="keep-alive connections held for the RSS test")
    ap.add_argument("--scale", action=argparse.BooleanOptionalAction, default=None,
                    help="also time list pages on postbase at 1,000 and 1,000,000 posts (default: on, off with --quick)")
    ap.add_argument("--sweep-flask-workers", metavar="N,N,...",
                    help="instead of the benchmark: compare gunicorn worker counts on --workloads "
                         "(default get_post,create_post,login,mix_90_10) and write flask-workers.md")
    ap.add_argument("--out", help="where results.json, results.md, chart.png go (default bench/results; "
                    "bench/results/tmp for --quick, --profile dev or a subset of servers/workloads)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 2, 0
    if args.scale is None:
        args.scale = not args.quick

    t_start = time.time()
    load_start = os.getloadavg()
    if load_start[0] > 1.0:
        log(f"note: the machine is busy before the run (load average {load_start[0]:.2f}): expect noisy numbers")
    servers = [s for s in args.servers.split(",") if s]
    workloads = [w for w in WORKLOADS if w[0] in args.workloads.split(",")]
    WORK.mkdir(parents=True, exist_ok=True)
    for old in WORK.glob("*.log"):
        old.unlink()
    if args.sweep_flask_workers and args.workloads == ",".join(w[0] for w in WORKLOADS):
        workloads = [w for w in WORKLOADS if w[0] in ("get_post", "create_post", "login", "mix_90_10")]
    partial = args.sweep_flask_workers or args.quick or args.profile != "release" or len(workloads) < len(WORKLOADS) or \
        set(servers) != {"postbase", "flask", "bare"}
    out_dir = Path(args.out) if args.out else (RESULTS / "tmp" if partial else RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)

    global POSTBASE_BIN, BARE_BIN, BARE_READS
    BARE_READS = args.bare_reads
    bin_dir = TARGET / ("debug" if args.profile == "dev" else "release")
    POSTBASE_BIN, BARE_BIN = bin_dir / "postbase", bin_dir / "postbase-bare-ref"
    if not args.no_build:
        build(args.profile)
    binaries = {}
    for kind, binary in (("postbase", POSTBASE_BIN), ("bare", BARE_BIN)):
        if kind in servers and not binary.exists():
            sys.exit(f"{binary} is missing: build it first")
    # Run copies, so that a rebuild during the run cannot mix two builds in one table.
    (WORK / "bin").mkdir(exist_ok=True)
    for name in ("POSTBASE_BIN", "BARE_BIN"):
        src = globals()[name]
        if src.exists():
            dst = WORK / "bin" / src.name
            shutil.copy2(src, dst)
            globals()[name] = dst
            binaries[src.name] = {"built": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(src.stat().st_mtime)),
                                  "sha256": hashlib.sha256(dst.read_bytes()).hexdigest()[:16]}
    ensure_wrk()

    seed_db = WORK / "seed.db"
    seed(seed_db, args.posts, args.schema_sql)
    lua = write_lua(args.posts, WORK / "lua")
    if args.sweep_flask_workers:
        counts = [int(x) for x in args.sweep_flask_workers.split(",")]
        sweep_flask_workers(counts, [w[0] for w in workloads], seed_db, lua, args, out_dir)
        return

    # Contract check: same routes, same JSON.
    check_servers = {}
    try:
        for kind in ("postbase", "flask"):
            if kind in servers:
                db = WORK / f"check-{kind}.db"
                copy_db(seed_db, db)
                check_servers[kind] = Server(kind, db, args.flask_workers)
        problems = contract_check({k: s.port for k, s in check_servers.items()}, args.posts)
    finally:
        for s in check_servers.values():
            s.stop()
    if problems:
        log(f"\nCONTRACT DEVIATIONS ({len(problems)}): the servers do not all do the same work")
        for srv, request, expected, got in problems:
            log(f"  [{srv}] {request}\n      expected: {expected}\n      got:      {got}")
        log("")
    else:
        log("contract check: postbase and Flask answer the benchmarked requests alike")

    results = {}
    for name, desc, wl_servers in workloads:
        kinds = [k for k in wl_servers if k in servers]
        if kinds:
            log(f"== {name}: {desc}  ({' / '.join(kinds)}, {args.rounds} rounds x {args.duration:g}s, "
                f"{args.connections} connections)")
            results[name] = measure(name, kinds, seed_db, lua, args)

    scale = None
    if args.scale and "postbase" in servers:
        scale = {}
        for n in (1_000, 1_000_000):
            db = WORK / f"scale-{n}.db"
            seed(db, n, args.schema_sql)
            scale_lua = write_lua(n, WORK / f"lua-{n}")
            for name in ("list_newest", "list_deep"):
                log(f"== scale: {name} on postbase with {n:,} posts")
                scale[f"{name}@{n}"] = measure(name, ["postbase"], db, scale_lua, args)["postbase"]
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)

    memory = None
    if "postbase" in servers:
        log(f"== memory: postbase idle, then holding {args.hold} keep-alive connections")
        memory = memory_test(seed_db, args.hold)
        log(f"   idle {memory['idle_rss_kib'] / 1024:.1f} MiB, holding {memory['connections']} connections "
            f"({memory['answered_200']} answered 200, {memory['still_open_after_hold']} still open) "
            f"{memory['rss_holding_kib'] / 1024:.1f} MiB")
    flask_idle = idle_rss("flask", seed_db, args.flask_workers) if "flask" in servers else None
    hash_s = argon2_seconds()
    cores = os.cpu_count()

    header, rows = table_rows(results)
    notes = [f"ratio = postbase req/s / Flask req/s; medians over {args.rounds} round(s) of {args.duration:g}s, "
             f"wrk {args.threads} threads, {args.connections} connections; Flask = gunicorn "
             f"{args.flask_workers} sync workers. Peak RSS = VmHWM (gunicorn: master + workers summed)."]
    storm = results.get("read_in_login_storm", {})
    if storm:
        notes.append("read_in_login_storm: reads on 8 connections while logins run on the other "
                     f"{max(1, args.connections - STORM_READERS)}; logins/s during it: " + ", ".join(
                         f"{k} {v['login_rps']:,.0f}" for k, v in storm.items() if v))
    if memory:
        notes.append(f"postbase idle RSS {fmt_mib(memory['idle_rss_kib'])} MiB; holding {memory['connections']} "
                     f"keep-alive connections {fmt_mib(memory['rss_holding_kib'])} MiB "
                     f"({memory['answered_200']} answered 200, {memory['still_open_after_hold']} still open). "
                     f"Flask idle RSS {fmt_mib(flask_idle)} MiB.")
    notes.append(f"argon2id (m=19456 t=2 p=1) verify in argon2-cffi: {hash_s * 1000:.1f} ms -> login target "
                 f"0.8 x {cores} cores / hash = {0.8 * cores / hash_s:.0f}/s")
    if scale:
        notes.append("list page cost vs table size (postbase): " + "; ".join(
            f"{k} {v['rps']:,.0f} req/s p99 {fmt_ms(v['p99_us'])} ms" for k, v in scale.items()))
    errors = {f"{w}/{k}": v["errors"] for w, res in results.items() for k, v in res.items() if v and v["errors"]}
    if errors:
        notes.append(f"NON-2XX OR SOCKET ERRORS (those rows are not comparable): {errors}")
    if problems:
        notes.append(f"{len(problems)} contract deviation(s): see results.json (and stderr).")
    goals = targets(results, memory, scale, hash_s, cores)

    print()
    print(render_text(header, rows))
    print()
    for n in notes:
        print(n)
    if goals:
        print()
        print(render_text(["target", "measured", "met"], goals))

    machine = {"cpus": cores, "kernel": os.uname().release,
               "loadavg_at_start": load_start, "loadavg_at_end": os.getloadavg(),
               "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                  if l.startswith("model name")), "?")}
    report = {
        "settings": {"profile": args.profile, "bare_reads": args.bare_reads, "rounds": args.rounds, "duration_s": args.duration, "connections": args.connections,
                     "wrk_threads": args.threads, "warmup_s": args.warmup, "flask_workers": args.flask_workers,
                     "users": N_USERS, "posts": args.posts, "quick": args.quick},
        "machine": machine,
        "binaries": binaries,
        "workloads": {n: {"description": d} for n, d, _ in workloads},
        "results": results,
        "memory": memory, "flask_idle_rss_kib": flask_idle,
        "argon2_verify_s": hash_s, "login_target_per_s": 0.8 * cores / hash_s,
        "contract_deviations": [dict(zip(("server", "request", "expected", "got"), map(str, p))) for p in problems],
        "table": {"header": header, "rows": rows},
        "notes": notes,
        "targets": [dict(zip(("target", "measured", "met"), g)) for g in goals],
        "scale": scale,
        "elapsed_s": round(time.time() - t_start, 1),
    }
    (out_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    md = [render_markdown(header, rows), ""] + [f"- {n}" for n in notes]
    if goals:
        md += ["", render_markdown(["target", "measured", "met"], goals)]
    (out_dir / "results.md").write_text("\n".join(md) + "\n")
    chart(results, out_dir / "chart.png",
          f"postbase vs Flask (gunicorn x{args.flask_workers}) vs bare axum, {cores} cores, "
          f"{args.connections} conns, {args.rounds}x{args.duration:g}s")
    log(f"wrote {out_dir}/results.json, results.md, chart.png in {time.time() - t_start:.0f}s")


if __name__ == "__main__":
    main()

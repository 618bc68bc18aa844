"""The workloads: one wrk Lua script each, and the list of which servers run which."""

import random

from .common import (BENCH_TAG, COMMENTED_EVERY, LIKES_PER_USER, N_USERS, PASSWORD, commented_posts, cursor_for,
                     token_for)

LUA_COMMON = r"""
local tokens = {%(tokens)s}
local cursors = {%(cursors)s}
local n_posts = %(n_posts)d
local n_users = %(n_users)d
local password = "%(password)s"
local bench_tag = "%(bench_tag)s"
local commented_every = %(commented_every)d
local n_commented = %(n_commented)d
local first_unliked = %(first_unliked)d  -- posts from here on have no seeded likes
local json_headers = {["Content-Type"] = "application/json"}

function init(args)
  local addr = tonumber(tostring({}):match("0x(%%x+)"), 16) or 0
  math.randomseed(os.time() + addr %% 1000003)
end

local function auth(user)
  return {["Authorization"] = "Bearer " .. tokens[user], ["Content-Type"] = "application/json"}
end

local function bearer(user)
  return {["Authorization"] = "Bearer " .. tokens[user]}
end

local function get_post()
  return wrk.format("GET", "/api/posts/" .. math.random(1, n_posts))
end

local function create_post()
  local u = math.random(1, n_users)
  return wrk.format("POST", "/api/posts", auth(u),
    '{"title":"Benchmark post","body":"Written by the postbase benchmark, one row per request."}')
end

"""

# Prints what the run measured as one line of JSON, which load.wrk_result reads.
LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d}\n',
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
    "list_comments": r"""
request = function()
  local p = math.random(1, n_commented) * commented_every
  return wrk.format("GET", "/api/posts/" .. p .. "/comments?limit=20")
end""",
    "tag_newest": r"""
request = function()
  return wrk.format("GET", "/api/posts?tag=" .. bench_tag .. "&limit=20")
end""",
    "tag_deep": r"""
request = function()
  return wrk.format("GET", "/api/posts?tag=" .. bench_tag .. "&limit=20&cursor=" .. cursors[math.random(1, #cursors)])
end""",
    # Each thread alternates: PUT a like of a random user on a random post it has not liked,
    # then DELETE that like. Both are idempotent, so a pair answered out of order is still 200.
    "like_unlike": r"""
local like_user, like_post = 0, nil
request = function()
  if like_post then
    local p = like_post
    like_post = nil
    return wrk.format("DELETE", "/api/posts/" .. p .. "/like", bearer(like_user))
  end
  like_user, like_post = math.random(1, n_users), math.random(first_unliked, n_posts)
  return wrk.format("PUT", "/api/posts/" .. like_post .. "/like", bearer(like_user))
end""",
    "create_comment": r"""
request = function()
  return wrk.format("POST", "/api/posts/" .. math.random(1, n_posts) .. "/comments", auth(math.random(1, n_users)),
    '{"body":"Written by the postbase benchmark, one comment per request."}')
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
    ("list_comments", "GET /api/posts/{id}/comments?limit=20, a random post with 25 comments (oldest first)",
     ("postbase", "flask")),
    ("tag_newest", f"GET /api/posts?tag={BENCH_TAG}&limit=20 (newest first; the tag is on ~19% of posts)",
     ("postbase", "flask")),
    ("tag_deep", f"GET /api/posts?tag={BENCH_TAG}&limit=20&cursor=<random id in the oldest 1-10%>",
     ("postbase", "flask")),
    ("create_post", "POST /api/posts with a token", ("postbase", "flask", "bare")),
    ("patch_post", "PATCH /api/posts/{random id}, author's token", ("postbase", "flask")),
    ("like_unlike", "PUT then DELETE /api/posts/{random id}/like, alternating, a random user's token",
     ("postbase", "flask")),
    ("create_comment", "POST /api/posts/{random id}/comments with a random user's token", ("postbase", "flask")),
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
        "n_posts": n_posts, "n_users": N_USERS, "password": PASSWORD, "bench_tag": BENCH_TAG,
        "commented_every": COMMENTED_EVERY, "n_commented": max(1, len(commented_posts(n_posts))),
        "first_unliked": min(N_USERS * LIKES_PER_USER + 1, n_posts),
    } + LUA_DONE
    paths = {}
    for name, body in LUA_WORKLOADS.items():
        path = where / f"{name}.lua"
        path.write_text(common + body + "\n")
        paths[name] = path
    return paths


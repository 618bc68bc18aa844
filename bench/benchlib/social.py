"""The social section: feed pages and search pages over a large dataset (social_data.py), postbase on
SQLite and on PostgreSQL side by side, and the feed again over a dataset of a hundredth of the posts
(same users, same follows) for the cost of a page against the table's size.

Workloads (64 connections, like the others; every request is a first page of 20 unless deep):
- feed_first_F: GET /api/feed?limit=20 with the token of a random reader of class F (readers who
  follow F people; social_data.py has the mix).
- feed_deep_F: GET /api/feed?limit=20&cursor=C, C a reader's cursor 90% of the way down their feed
  (readers whose feed is too short for a deep page, on either dataset, are left out).
- search_common / search_rare: GET /api/posts?q=W&limit=20, W a word in 20-50% of the posts / in
  under 0.1% of them (as the last word it is also a prefix: "W*").
- search_prefix: q = "W P", W a common word and P the first two letters of another (type-ahead).
"""

import os
import shutil
import sqlite3
import subprocess
import time

from .common import WORK, cursor_for, log, token_for
from .load import one_run
from .report import fmt_ms, summarize
from .server import Server
from .social_data import Spec
from .social_pg import check_pg, drop_pg, reused_pg, seed_pg
from .social_seed import feed_sizes, seeded_sqlite
from .workloads import LUA_DONE

PAGE = 20
COMMON_SHARE, RARE_SHARE = (0.20, 0.50), (0.0001, 0.001)


def feed_workloads(spec):
    return [f"feed_{kind}_{c}" for c in spec.classes for kind in ("first", "deep")]


SEARCH_WORKLOADS = ["search_common", "search_rare", "search_prefix"]

LUA_HEAD = r"""
local items = {%s}
function init(args)
  local addr = tonumber(tostring({}):match("0x(%%x+)"), 16) or 0
  math.randomseed(os.time() + addr %% 1000003)
end
local function pick() return items[math.random(1, #items)] end
"""

LUA_BODY = {
    "feed_first": r"""request = function()
  return wrk.format("GET", "/api/feed?limit=20", {["Authorization"] = "Bearer " .. pick()})
end""",
    "feed_deep": r"""request = function()
  local it = pick()
  return wrk.format("GET", "/api/feed?limit=20&cursor=" .. it[2], {["Authorization"] = "Bearer " .. it[1]})
end""",
    "search": r"""request = function()
  return wrk.format("GET", "/api/posts?q=" .. pick() .. "&limit=20")
end""",
}


def lua_items(items):
    def one(x):
        return "{" + ",".join(f'"{y}"' for y in x) + "}" if isinstance(x, tuple) else f'"{x}"'
    return ",".join(one(x) for x in items)


def deep_cursors(conn, sizes, readers):
    """(reader, cursor) for each reader whose feed has a full page 90% of the way down it."""
    out = []
    for u in readers:
        n = sizes[u]
        k = min(int(0.9 * n), n - PAGE - 1)  # the page after a cursor at row k is rows k+1..k+20
        if k >= PAGE:
            last = conn.execute("SELECT post_id FROM feed WHERE user_id = ? ORDER BY post_id DESC LIMIT 1 OFFSET ?",
                                (u, k)).fetchone()[0]
            out.append((u, cursor_for(b"d", last)))
    return out


def search_queries(conn, n_posts):
    """The words of the search workloads, chosen by how many posts each matches the way the server
    asks (the last word a prefix: "w"* also matches longer words), from the index's own counts."""
    def matches(q):
        fts = " ".join(f'"{w}"' for w in q.split()) + "*"
        return conn.execute("SELECT count(*) FROM posts_search WHERE posts_search MATCH ?", (fts,)).fetchone()[0]

    def spread(xs, n):
        return xs[::max(1, len(xs) // n)][:n]

    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, posts_search, 'row')")
    terms = conn.execute("SELECT term, doc FROM temp.vocab WHERE term GLOB '[a-z]*' ORDER BY doc DESC, term").fetchall()
    in_band = lambda d, band: band[0] * n_posts <= d <= band[1] * n_posts
    common = spread([t for t, d in terms if in_band(d, COMMON_SHARE) and in_band(matches(t), COMMON_SHARE)], 8)
    rare = [t for t, d in terms if in_band(d, RARE_SHARE)]
    rare = spread([t for t in spread(rare, 256) if 1 <= matches(t) <= max(1, RARE_SHARE[1] * n_posts)], 32)
    if not common or not rare:
        raise RuntimeError(f"no common or rare words in the dataset ({len(terms)} terms)")
    prefix = [f"{common[i]} {common[(i + 1) % len(common)][:2]}" for i in range(len(common))]
    queries = {"search_common": common, "search_rare": rare, "search_prefix": prefix}
    shares = {name: [matches(q) / n_posts for q in qs] for name, qs in queries.items()}
    return queries, shares


def prepare(spec, sqlite_file, deep_readers=None):
    """What the workloads of one dataset send: readers' tokens, deep cursors, search words."""
    readers = {c: spec.reader_ids(c) for c in spec.classes}
    sizes = feed_sizes(spec.all_readers(), sqlite_file)
    conn = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
    deep = {c: deep_cursors(conn, sizes, [u for u in readers[c] if deep_readers is None or u in deep_readers])
            for c in spec.classes}
    queries, shares = search_queries(conn, spec.posts)
    conn.close()
    return {"readers": readers, "sizes": sizes, "deep": deep, "queries": queries, "shares": shares}


def write_lua(spec, prep, where):
    where.mkdir(parents=True, exist_ok=True)
    scripts = {}
    for c in spec.classes:
        scripts[f"feed_first_{c}"] = ("feed_first", [token_for(u) for u in prep["readers"][c]])
        if prep["deep"][c]:
            scripts[f"feed_deep_{c}"] = ("feed_deep", [(token_for(u), cur) for u, cur in prep["deep"][c]])
    for name, qs in prep["queries"].items():
        scripts[name] = ("search", [q.replace(" ", "+") for q in qs])
    paths = {}
    for name, (body, items) in scripts.items():
        paths[name] = where / f"{name}.lua"
        paths[name].write_text(LUA_HEAD % lua_items(items) + LUA_BODY[body] + "\n" + LUA_DONE)
    return paths


def pg_available(url):
    if not url or url == "none" or not shutil.which("psql"):
        return False
    r = subprocess.run(["psql", f"{url}/postgres", "-qAtXc", "SELECT 1"], capture_output=True, text=True)
    if r.returncode != 0:
        log(f"social: PostgreSQL at {url} not reachable ({r.stderr.strip()}): SQLite only")
    return r.returncode == 0


def specs(args):
    if args.quick:
        big = Spec(users=200, posts=2_000, readers=2)
    else:
        big = Spec(users=args.social_users, posts=args.social_posts)
    small = Spec(users=big.users, posts=max(1_000, big.posts // 100), readers=big.readers) if args.social_scale else None
    return big, small


def run_social(args):
    """Seeds (or reuses) the datasets, runs every workload on every server in alternation, and
    returns what social_report.py shows."""
    t0 = time.time()
    big, small = specs(args)
    use_pg = pg_available(args.social_pg)
    datasets = [("big", big)] + ([("small", small)] if small else [])
    out = {"spec": {n: s.__dict__ | {"follows": {c: s.follows_of_class(c) for c in s.classes}} for n, s in datasets},
           "seeding": {}, "results": {}, "pg": use_pg, "loadavg_start": os.getloadavg()}
    files, pg_dbs, servers = {}, [], {}
    try:
        for name, spec in datasets:
            files[name], secs = seeded_sqlite(spec)
            out["seeding"][f"sqlite_{name}_s"] = round(secs, 1)
        deep_ok = None
        if small:  # the deep pages of readers who have one on both datasets, so the ratio compares alike
            sizes_small = feed_sizes(small.all_readers(), files["small"])
            deep_ok = {u for u, n in sizes_small.items() if min(int(0.9 * n), n - PAGE - 1) >= PAGE}
        preps, luas = {}, {}
        for name, spec in datasets:
            preps[name] = prepare(spec, files[name], deep_ok)
            luas[name] = write_lua(spec, preps[name], WORK / f"lua-social-{name}")
            db = WORK / f"social-{name}.db"
            shutil.copyfile(files[name], db)
            servers[("sqlite", name)] = Server("postbase", db)
            if use_pg:
                pg_db = f"bench_social_{spec.posts}"
                pg_dbs.append(pg_db)
                if args.reuse_pg and reused_pg(args.social_pg, pg_db):
                    log(f"social: reusing PostgreSQL database {pg_db} (checked against the SQLite file)")
                    out["seeding"][f"pg_{name}_s"] = 0
                else:
                    out["seeding"][f"pg_{name}_s"] = round(seed_pg(args.social_pg, pg_db, files[name]), 1)
                check_pg(args.social_pg, pg_db, files[name], spec.all_readers())
                servers[("pg", name)] = Server("postbase", None, database_url=f"{args.social_pg}/{pg_db}?sslmode=disable")
        out["prep"] = {n: {"sizes": p["sizes"], "deep_readers": {c: [u for u, _ in v] for c, v in p["deep"].items()},
                           "queries": p["queries"], "shares": p["shares"]} for n, p in preps.items()}
        names = feed_workloads(big) + SEARCH_WORKLOADS
        if args.social_workloads:
            names = [n for n in names if n in args.social_workloads.split(",")]
        for wl in names:
            kinds = [k for k in servers if wl in luas[k[1]] and (k[1] == "big" or wl.startswith("feed_"))]
            if not kinds:
                continue
            log(f"== social {wl}: {' / '.join(f'{db}@{datasets_posts(out, ds):,}' for db, ds in kinds)}, "
                f"{args.rounds} rounds x {args.duration:g}s, {args.connections} connections")
            out["results"][wl] = measure_social(wl, kinds, servers, luas, args)
    finally:
        for s in servers.values():
            s.stop()
        for db in pg_dbs:
            if not args.keep_pg:
                drop_pg(args.social_pg, db)
    out["elapsed_s"] = round(time.time() - t0, 1)
    out["loadavg_end"] = os.getloadavg()
    return out


def datasets_posts(out, ds):
    return out["spec"][ds]["posts"]


def measure_social(name, kinds, servers, luas, args):
    """Warm each server up, then A B C D rounds: SQLite and PostgreSQL, big and small dataset."""
    runs = {k: [] for k in kinds}
    for k in kinds:
        if args.warmup > 0:
            one_run(name, servers[k], luas[k[1]], args.warmup, args)
    for rnd in range(args.rounds):
        for k in kinds:
            r = one_run(name, servers[k], luas[k[1]], args.duration, args)
            runs[k].append(r)
            log(f"   round {rnd + 1} {k[0]:6s} {k[1]:5s} {r['rps']:10,.0f} req/s  p50 {fmt_ms(r['p50_us']):>7} ms"
                f"  p99 {fmt_ms(r['p99_us']):>8} ms" + (f"  ERRORS {r['errors']}" if r["errors"] else ""))
    return {f"{db}@{ds}": summarize(v) for (db, ds), v in runs.items()}

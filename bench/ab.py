"""A/B two postbase builds on the workloads both serve: `bench/ab OLD_BIN NEW_BIN`.

Each build gets a database made by its own `postbase migrate` and seeded with the same users,
tokens and posts (the columns every schema since the first has; the newer build's extra columns
keep their defaults), then the two run alternately (old new old new ...) on the same wrk scripts as
`bench/run`. For "did this change cost throughput?" on one machine in one sitting, where the
machine's day-to-day drift would swamp a comparison with an older `bench/results`.
"""

import argparse
import hashlib
import sqlite3
import sys
from pathlib import Path

from benchlib import common
from benchlib.common import BASE_TS_US, N_USERS, PASSWORD, WORK, author_of, log, run_cmd, token_for
from benchlib.load import one_run
from benchlib.report import fmt_ms, summarize
from benchlib.seed import LOREM, argon2_hash, copy_db, post_ts
from benchlib.server import Server
from benchlib.workloads import write_lua

DEFAULT = "get_post,profile,list_newest,list_deep,create_post,patch_post"


def seed(binary, db, n_posts):
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    run_cmd([str(binary), "migrate", "--database-url", f"sqlite://{db}"])
    far = BASE_TS_US + 10 * 365 * 86400 * 10**6
    pw_hash = argon2_hash(PASSWORD)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    with conn:
        conn.executemany(
            "INSERT INTO users (id, username, email, password_hash, admin, version, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, 0, 1, ?, ?)",
            ((u, f"user{u}", f"user{u}@example.com", pw_hash, BASE_TS_US + u, BASE_TS_US + u)
             for u in range(1, N_USERS + 1)))
        conn.executemany(
            "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            ((hashlib.sha256(token_for(u).encode()).digest(), u, BASE_TS_US, far)
             for u in range(1, N_USERS + 1)))
        conn.executemany(
            "INSERT INTO posts (id, author_id, title, body, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 1, ?, ?)",
            ((p, author_of(p), f"Post number {p}", f"{LOREM}#{p}", post_ts(p), post_ts(p))
             for p in range(1, n_posts + 1)))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--workloads", default=DEFAULT)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=8)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--posts", type=int, default=100_000)
    args = p.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    builds = {"old": args.old.resolve(), "new": args.new.resolve()}
    seeds = {}
    for name, binary in builds.items():
        seeds[name] = WORK / f"ab-{name}.db"
        seed(binary, seeds[name], args.posts)
    lua = write_lua(args.posts, WORK / "ab-lua")
    print(f"| workload | old req/s (runs) | new req/s (runs) | new/old | old p99 / new p99 ms |")
    print("|---|---|---|---:|---:|")
    for name in args.workloads.split(","):
        running, runs = {}, {k: [] for k in builds}
        try:
            for kind, binary in builds.items():
                db = WORK / f"ab-{name}-{kind}.db"
                copy_db(seeds[kind], db)
                common.POSTBASE_BIN = binary
                running[kind] = Server("postbase", db)
                one_run(name, running[kind], lua, args.warmup, args)
            for _ in range(args.rounds):
                for kind in builds:
                    runs[kind].append(one_run(name, running[kind], lua, args.duration, args))
        finally:
            for s in running.values():
                s.stop()
        old, new = summarize(runs["old"]), summarize(runs["new"])
        each = {k: " / ".join(f"{r['rps']:,.0f}" for r in v) for k, v in runs.items()}
        print(f"| {name} | {old['rps']:,.0f} ({each['old']}) | {new['rps']:,.0f} ({each['new']}) | "
              f"{new['rps'] / old['rps']:.2f} | {fmt_ms(old['p99_us'])} / {fmt_ms(new['p99_us'])} |",
              flush=True)
    log("done")


if __name__ == "__main__":
    sys.exit(main())

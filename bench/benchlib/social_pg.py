"""The social dataset in PostgreSQL: a new database migrated by `postbase migrate` and filled from
the seeded SQLite file with COPY, so both hold the same rows; then checked against the file."""

import os
import sqlite3
import subprocess
import time
from pathlib import Path

from . import common
from .common import log, run_cmd

REPLICA = {"PGOPTIONS": "-c session_replication_role=replica"}  # a session whose triggers do not fire
# Indexes built once after the bulk load rather than row by row during it (same definitions).
REBUILT = ("posts_search", "feed_post_id")


def psql(server, db, sql, env=None):
    cmd = ["psql", f"{server}/{db}", "-v", "ON_ERROR_STOP=1", "-qAtX", "-c", sql]
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {}))).stdout


def copy_in(server, db, table_cols, rows, env=None, batch=20_000):
    """COPY rows (tuples of str/int without tabs, newlines or backslashes) into table (cols),
    streamed to psql's standard input."""
    cmd = ["psql", f"{server}/{db}", "-v", "ON_ERROR_STOP=1", "-qAtX", "-c", f"COPY {table_cols} FROM STDIN"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, text=True, env=dict(os.environ, **(env or {})))
    buf = []
    for r in rows:
        buf.append("\t".join(map(str, r)))
        if len(buf) >= batch:
            proc.stdin.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        proc.stdin.write("\n".join(buf) + "\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"COPY {table_cols} failed")


def drop_pg(server, db):
    psql(server, "postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def reused_pg(server, db):
    """Whether `db` is there from an earlier `--keep-pg` run; if so, brought to this build's schema."""
    if psql(server, "postgres", f"SELECT 1 FROM pg_database WHERE datname = '{db}'").strip() != "1":
        return False
    run_cmd([str(common.POSTBASE_BIN), "migrate", "--database-url", f"{server}/{db}?sslmode=disable"],
            env=dict(os.environ, RUST_LOG="warn"))
    psql(server, db, "ANALYZE")
    return True


def index_defs(server, db):
    out = psql(server, db, "SELECT indexname || '|' || indexdef FROM pg_indexes WHERE schemaname = 'public' "
                           "AND tablename IN ('posts', 'feed', 'follows', 'users') ORDER BY 1")
    return dict(line.split("|", 1) for line in out.splitlines())


def seed_pg(server, db, sqlite_file, workers=2):
    """A new database `db` with the rows of the seeded SQLite file, as its triggers would make them.

    The triggers do not fire during the load (session_replication_role = replica); what they would
    have done is done once for all rows, after: post_count, following_count and follower_count by
    one UPDATE each, the feed by one INSERT ... SELECT of every follower's followees' posts (what the
    follows trigger copies per follow). Row by row it was too slow: the posts trigger updates user
    1's row 46,000 times in one transaction, walking a longer chain of row versions each time (it
    had not finished after 6 minutes), and 108,168 follows fanned out by their trigger took 314 s.
    The search GIN index and feed(post_id) are dropped during the load and built after it from their
    own definitions (checked equal). The generated tsvector is computed for each post on insert
    (about 0.2 ms a post here), so the posts go in over `workers` sessions."""
    t0 = time.time()
    drop_pg(server, db)
    psql(server, "postgres", f"CREATE DATABASE {db}")
    run_cmd([str(common.POSTBASE_BIN), "migrate", "--database-url", f"{server}/{db}?sslmode=disable"],
            env=dict(os.environ, RUST_LOG="warn"))
    src = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
    copy_in(server, db, "users (id, username, email, password_hash, admin, version, created_at, updated_at)",
            ((i, n, e, h, "false", v, c, u) for i, n, e, h, _, v, c, u in src.execute(
                "SELECT id, username, email, password_hash, admin, version, created_at, updated_at FROM users")))
    copy_in(server, db, "tokens (hash, user_id, created_at, expires_at)",
            (("\\\\x" + h.hex(), u, c, x) for h, u, c, x in src.execute(
                "SELECT hash, user_id, created_at, expires_at FROM tokens")))
    defs = index_defs(server, db)
    psql(server, db, "; ".join(f"DROP INDEX {name}" for name in REBUILT))
    t = time.time()
    psql(server, db, "CREATE UNLOGGED TABLE stage (id bigint, author_id bigint, title text, body text, ts bigint)")
    copy_in(server, db, "stage", src.execute("SELECT id, author_id, title, body, created_at FROM posts ORDER BY id"))
    inserts = [subprocess.Popen(
        ["psql", f"{server}/{db}", "-v", "ON_ERROR_STOP=1", "-qAtX", "-c",
         "INSERT INTO posts (id, author_id, title, body, version, created_at, updated_at) "
         "SELECT id, author_id, convert_to(title, 'UTF8'), convert_to(body, 'UTF8'), 1, ts, ts "
         f"FROM stage WHERE id % {workers} = {k} ORDER BY id"], env=dict(os.environ, **REPLICA))
        for k in range(workers)]
    if any(p.wait() != 0 for p in inserts):
        raise RuntimeError("inserting the posts failed")
    psql(server, db, "DROP TABLE stage; UPDATE users u SET post_count = n.n FROM "
                     "(SELECT author_id, count(*) AS n FROM posts GROUP BY author_id) n WHERE u.id = n.author_id")
    log(f"   posts: {time.time() - t:.1f}s")
    t = time.time()
    copy_in(server, db, "follows (id, follower_id, followee_id, created_at)",
            src.execute("SELECT id, follower_id, followee_id, created_at FROM follows ORDER BY id"), env=REPLICA)
    src.close()
    psql(server, db, "INSERT INTO feed (user_id, post_id) SELECT f.follower_id, p.id FROM follows f "
                     "JOIN posts p ON p.author_id = f.followee_id ORDER BY 1, 2; "
                     "UPDATE users u SET following_count = n.n FROM "
                     "(SELECT follower_id AS id, count(*) AS n FROM follows GROUP BY 1) n WHERE u.id = n.id; "
                     "UPDATE users u SET follower_count = n.n FROM "
                     "(SELECT followee_id AS id, count(*) AS n FROM follows GROUP BY 1) n WHERE u.id = n.id", env=REPLICA)
    log(f"   follows and feed: {time.time() - t:.1f}s")
    t = time.time()
    psql(server, db, "SET maintenance_work_mem = '256MB'; " + "; ".join(defs[name] for name in REBUILT))
    if index_defs(server, db) != defs:
        raise RuntimeError("PostgreSQL's indexes differ from the migrated schema's after the load")
    psql(server, db, "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users)); "
                     "SELECT setval(pg_get_serial_sequence('posts', 'id'), (SELECT max(id) FROM posts)); "
                     "SELECT setval(pg_get_serial_sequence('follows', 'id'), (SELECT max(id) FROM follows))")
    psql(server, db, "VACUUM ANALYZE")
    log(f"seeded PostgreSQL {db} from {Path(sqlite_file).name} in {time.time() - t0:.1f}s "
        f"(indexes, VACUUM ANALYZE {time.time() - t:.1f}s)")
    return time.time() - t0


def check_pg(server, db, sqlite_file, readers):
    """The PostgreSQL database must hold what the SQLite file holds: every user's counts, the feed's
    size and each reader's feed. Returns the readers' feed sizes."""
    q_users = "SELECT id, post_count, follower_count, following_count FROM users ORDER BY id"
    q_feed = "SELECT count(*) FROM feed"
    q_readers = f"SELECT user_id, count(*) FROM feed WHERE user_id IN ({','.join(map(str, readers))}) GROUP BY 1 ORDER BY 1"
    src = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
    want = [[tuple(map(int, r)) for r in src.execute(q)] for q in (q_users, q_feed, q_readers)]
    src.close()
    got = [[tuple(map(int, line.split("|"))) for line in psql(server, db, q).splitlines()]
           for q in (q_users, q_feed, q_readers)]
    for name, w, g in zip(("users' counts", "feed rows", "readers' feeds"), want, got):
        if w != g:
            diff = [(a, b) for a, b in zip(w, g) if a != b][:5]
            raise RuntimeError(f"PostgreSQL's {name} differ from SQLite's: {diff or (len(w), len(g))}")
    return dict(want[2])

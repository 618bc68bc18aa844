"""The social dataset in SQLite: a file written with Python's sqlite3, cached under
target/bench-social/ and keyed by the dataset's parameters and the schema. The schema's own triggers
keep the counts, the feed inbox and the search index, as they do for the API's writes.
(social_pg.py copies the file into PostgreSQL.)"""

import hashlib
import os
import sqlite3
import time
from pathlib import Path

from . import common
from .common import BASE_TS_US, PASSWORD, ROOT, TARGET, log, run_cmd, token_for
from .seed import argon2_hash
from .social_data import vocabulary, follows, post_rows

CACHE = TARGET / "bench-social"
FIRST_POST_TS = BASE_TS_US + 10**9
FOLLOW_TS = BASE_TS_US + 10**8  # every follow is older than every post
# "follows-first": follows, then posts, whose insert trigger fans each post out to its author's
# followers; "posts-first": posts, then follows, whose insert trigger copies all the followee's
# posts into the follower's feed. Measured with 10,000 users and 1,000,000 posts (16.4 million
# feed rows) on 2 busy cores: follows-first 135 s (posts 131 s, most of it the search index),
# posts-first 175 s (posts 133 s, then follows 39 s).
SEED_ORDER = "follows-first"


def schema_hash(kind):
    h = hashlib.sha256()
    for f in sorted((ROOT / "migrations" / kind).glob("*.sql")):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:12]


def sqlite_path(spec):
    return CACHE / f"social-{spec.key()}-schema{schema_hash('sqlite')}.db"


def seeded_sqlite(spec, order=SEED_ORDER):
    """The cached SQLite file of this dataset, seeding it first if there is none. Returns
    (path, seconds spent seeding, 0 when cached)."""
    path = sqlite_path(spec)
    if path.exists():
        log(f"social: using the cached {path.name} ({path.stat().st_size / 2**20:,.0f} MiB)")
        return path, 0.0
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    t0 = time.time()
    seed_sqlite(spec, tmp, order)
    tmp.rename(path)
    for suffix in ("-wal", "-shm"):  # empty: the file was closed cleanly
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    return path, time.time() - t0


def seed_sqlite(spec, db, order):
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    run_cmd([str(common.POSTBASE_BIN), "migrate", "--database-url", f"sqlite://{db}"],
            env=dict(os.environ, RUST_LOG="warn"))
    t0 = time.time()
    conn = sqlite3.connect(db, isolation_level=None)
    # A throwaway file until renamed: no journal, no fsync, a large page cache.
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1048576")
    conn.execute("BEGIN")
    insert_users(conn, spec)
    pairs = follows(spec)
    steps = [("follows", lambda: insert_follows(conn, pairs)), ("posts", lambda: insert_posts(conn, spec))]
    for name, step in (steps if order == "follows-first" else steps[::-1]):
        t = time.time()
        step()
        log(f"   {name}: {time.time() - t:.1f}s")
    # postbase writes each post's words of 4+ characters to its search dictionary (search_terms,
    # src/store/sqlite/search.rs) as it stores the post; the texts here are lower-case ASCII words
    # of the vocabulary, so the dictionary they make is the vocabulary's words of 4+ letters.
    conn.executemany("INSERT OR IGNORE INTO search_terms (term) VALUES (?)",
                     ((w,) for w in vocabulary(spec) if len(w) >= 4))
    conn.execute("COMMIT")
    t = time.time()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    feed_rows = sqlite3.connect(db).execute("SELECT count(*) FROM feed").fetchone()[0]
    log(f"seeded {db.name} ({order}): {spec.users:,} users, {spec.posts:,} posts, {len(pairs):,} follows, "
        f"{feed_rows:,} feed rows in {time.time() - t0:.1f}s (ANALYZE {time.time() - t:.1f}s), "
        f"{db.stat().st_size / 2**20:,.0f} MiB")


def insert_users(conn, spec):
    pw_hash = argon2_hash(PASSWORD)
    far = BASE_TS_US + 10 * 365 * 86400 * 10**6
    conn.executemany(
        "INSERT INTO users (id, username, email, password_hash, admin, version, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, 0, 1, ?, ?)",
        ((u, f"user{u}", f"user{u}@example.com", pw_hash, BASE_TS_US + u, BASE_TS_US + u)
         for u in range(1, spec.users + 1)))
    conn.executemany(
        "INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        ((hashlib.sha256(token_for(u).encode()).digest(), u, BASE_TS_US, far) for u in range(1, spec.users + 1)))


def insert_follows(conn, pairs):
    conn.executemany("INSERT INTO follows (id, follower_id, followee_id, created_at) VALUES (?, ?, ?, ?)",
                     ((i, a, b, FOLLOW_TS + i) for i, (a, b) in enumerate(pairs, 1)))


def insert_posts(conn, spec):
    for rows in post_rows(spec, FIRST_POST_TS):
        conn.executemany(
            "INSERT INTO posts (id, author_id, title, body, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 1, ?, ?)", ((p, a, t, b, ts, ts) for p, a, t, b, ts in rows))


def feed_sizes(readers, sqlite_file):
    """Rows in each reader's feed in the SQLite file."""
    conn = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
    out = {u: conn.execute("SELECT count(*) FROM feed WHERE user_id = ?", (u,)).fetchone()[0] for u in readers}
    conn.close()
    return out

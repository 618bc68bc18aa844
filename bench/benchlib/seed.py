"""The seeded database: schema from `postbase migrate` (and the Flask reference's `init-db`), then
users, tokens, posts with their tags, comments and likes written directly with sqlite3; and
argon2id, which the seed and the login target both need."""

import hashlib
import os
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from . import common
from .common import (BASE_TS_US, COMMENTS_PER_POST, FLASK_DIR, N_USERS, PASSWORD, TAGS, author_of,
                     comment_ids_of, commented_posts, liked_posts_of, log, run_cmd, tags_of, token_for)

LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
         "tempor incididunt ut labore et dolore magna aliqua. ")


def post_ts(post_id):
    """When a seeded post was written: a second apart, in id order."""
    return BASE_TS_US + 10**9 + post_id * 1_000_000


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
        run_cmd([str(common.POSTBASE_BIN), "migrate", "--database-url", f"sqlite://{db}"],
                env=dict(os.environ, RUST_LOG="warn"))


def flask_init_db(db):
    """The Flask reference's own tables (its tags), made by its `init-db` command."""
    flask = Path(sys.executable).parent / "flask"
    run_cmd([str(flask), "--app", "app", "init-db"], cwd=FLASK_DIR,
            env=dict(os.environ, POSTBASE_BENCH_DB=str(db)))


def seed(db, n_posts, schema_sql=None):
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    create_schema(db, schema_sql)
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    if not {"users", "tokens", "posts", "comments", "likes", "post_tags"} <= tables:
        sys.exit(f"the schema was not created in {db} (tables: {sorted(tables)}); is {common.POSTBASE_BIN} current?")
    flask_init_db(db)
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
        conn.executemany(
            "INSERT INTO posts (id, author_id, title, body, tags, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            ((p, author_of(p), f"Post number {p}", f"{LOREM}#{p}", " ".join(tags_of(p)), post_ts(p), post_ts(p))
             for p in range(1, n_posts + 1)))
        # postbase keeps a post's tags in `posts.tags` and `post_tags`; the Flask reference in its
        # own `tags` and `taggings` (see bench/flask_ref/models.py).
        conn.executemany("INSERT INTO post_tags (tag, post_id) VALUES (?, ?)",
                         ((t, p) for p in range(1, n_posts + 1) for t in tags_of(p)))
        conn.executemany("INSERT INTO tags (id, name) VALUES (?, ?)", enumerate(TAGS, 1))
        conn.executemany("INSERT INTO taggings (tag_id, post_id) VALUES (?, ?)",
                         ((TAGS.index(t) + 1, p) for p in range(1, n_posts + 1) for t in tags_of(p)))
        commented = list(commented_posts(n_posts))
        conn.executemany(
            "INSERT INTO comments (id, post_id, author_id, body, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 1, ?, ?)",
            ((c, p, (p + k) % N_USERS + 1, f"Comment {k + 1} on post {p}. {LOREM}",
              post_ts(p) + c, post_ts(p) + c)
             for p in commented for k, c in enumerate(comment_ids_of(p))))
        likes = [(u, p) for u in range(1, N_USERS + 1) for p in liked_posts_of(u, n_posts)]
        conn.executemany("INSERT INTO likes (user_id, post_id, created_at) VALUES (?, ?, ?)",
                         ((u, p, post_ts(p) + 1) for u, p in likes))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    log(f"seeded {db.name}: {N_USERS} users, {n_posts} posts, {N_USERS} tokens, "
        f"{len(commented) * COMMENTS_PER_POST} comments, {len(likes)} likes "
        f"in {time.time() - t0:.1f}s ({db.stat().st_size / 2**20:.0f} MiB)")


def copy_db(src, dst):
    for suffix in ("", "-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copyfile(src, dst)


"""The seeded database: schema from `postbase migrate`, then users, tokens and posts written
directly with sqlite3; and argon2id, which the seed and the login target both need."""

import hashlib
import os
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from . import common
from .common import BASE_TS_US, N_USERS, PASSWORD, author_of, log, run_cmd, token_for


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


def seed(db, n_posts, schema_sql=None):
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    create_schema(db, schema_sql)
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    if not {"users", "tokens", "posts"} <= tables:
        sys.exit(f"the schema was not created in {db} (tables: {sorted(tables)}); is {common.POSTBASE_BIN} current?")
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


"""What every part of the benchmark shares: paths, the seeded data's constants and how to derive
its tokens, cursors, tags, comments and likes, logging and running commands.

POSTBASE_BIN, BARE_BIN and BARE_READS are settings: cli.main sets them from the flags, and other
modules read them as `common.POSTBASE_BIN` so that they see the value set.
"""

import base64
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
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


# Tags, comments and likes of the seeded posts; the contract check derives its expectations from
# the same functions.
TAGS = ["rust", "python", "go", "sql", "web", "cli", "async", "testing", "perf", "docs"]
BENCH_TAG = "rust"  # the tag of the ?tag= workloads: on about 19% of the posts
COMMENTED_EVERY = 50  # posts 50, 100, 150, ... have comments (2,000 of 100,000 posts)
COMMENTS_PER_POST = 25  # more than a page of 20
LIKES_PER_USER = 10  # user u likes posts u, u + 1000, ..., u + 9000


def tags_of(post_id):
    """One or two tags per post, in this order."""
    first, second = TAGS[post_id % 10], TAGS[post_id // 10 % 10]
    return [first] if first == second else [first, second]


def commented_posts(n_posts):
    return range(COMMENTED_EVERY, n_posts + 1, COMMENTED_EVERY)


def comment_ids_of(post_id):
    """The seeded comments of a commented post, oldest first (ids are given in post order)."""
    first = (post_id // COMMENTED_EVERY - 1) * COMMENTS_PER_POST + 1
    return list(range(first, first + COMMENTS_PER_POST))


def liked_posts_of(user_id, n_posts):
    return [p for p in range(user_id, N_USERS * LIKES_PER_USER + 1, N_USERS) if p <= n_posts]


def seeded_counts(post_id, n_posts):
    """(like_count, comment_count) of a seeded post."""
    likes = 1 if post_id <= min(n_posts, N_USERS * LIKES_PER_USER) else 0
    comments = COMMENTS_PER_POST if post_id in commented_posts(n_posts) else 0
    return likes, comments


def post_etag(version, post_id, n_posts, liked=None, extra_comments=0):
    """A seeded post's ETag: "<version>-<likes>-<comments>", then -l / -n for a viewer."""
    likes, comments = seeded_counts(post_id, n_posts)
    viewer = {True: "-l", False: "-n"}.get(liked, "")
    return f'"{version}-{likes}-{comments + extra_comments}{viewer}"'


def run_cmd(cmd, **kw):
    """Run a command, its output on stderr so stdout keeps only the results."""
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, stdout=sys.stderr, **kw)


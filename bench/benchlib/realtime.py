"""bench/realtime: `GET /api/events` at scale (see bench/README.md, "Realtime"). Three parts:

1. hold: 10,000 streams on one instance (SQLite), a light write load, the server's RSS;
2. latency: POST /api/posts' top rate, then 1,000 streams that each follow one author while
   posts are written at half that rate; delay from a post's `created_at` to its arrival;
3. pg: the same over two instances on one PostgreSQL database, streams on B, writes to A.

The streams, the writer and the checks are the Rust client in bench/realtime_client; this module
seeds the databases, starts the servers, runs the client and hands its JSON to realtime_report.
Only the standard library is needed.
"""

import argparse
import hashlib
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from . import common
from .common import BASE_TS_US, N_USERS, RESULTS, ROOT, TARGET, WORK, log, run_cmd, token_for
from .realtime_report import machine, publish
from .seed import copy_db
from .server import Server
from .social_pg import copy_in, drop_pg, psql

RT_WORK = TARGET / "bench-realtime"
CLIENT_DIR = ROOT / "bench" / "realtime_client"
# argon2id of common.PASSWORD, made once by `postbase user create`: every seeded user gets it (a
# hash per user would cost a second of set-up for logins this benchmark never makes).
PW_HASH = "$argon2id$v=19$m=19456,t=2,p=1$82kEVZoHK9MswuQcjTWREQ$5Bt4SjWDdghMemJ0GK8dtp5Xx1zevcJdUPJ8OLJCZ/U"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="correctness only: 200 streams per part, a few seconds each; any build "
                         "(POSTBASE_BIN=target/debug/postbase works); exits 1 only when a check fails")
    ap.add_argument("--sqlite-only", action="store_true", help="parts 1 and 2 only")
    ap.add_argument("--pg-only", action="store_true", help="part 3 only")
    ap.add_argument("--parts", default="hold,latency,pg", help="a subset of hold,latency,pg (default all)")
    ap.add_argument("--pg", default=os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432"),
                    help="PostgreSQL server for part 3 (it creates and drops bench_rt_PID); 'none' skips it")
    ap.add_argument("--streams", type=int, default=10_000, help="part 1: streams held (default 10,000)")
    ap.add_argument("--all-streams", type=int, default=1_000,
                    help="part 1: of them, how many take the default topics (every post); the others "
                         "follow one author each (default 1,000)")
    ap.add_argument("--hold-rate", type=float, default=50, help="part 1: posts a second (default 50)")
    ap.add_argument("--hold-seconds", type=float, default=60, help="part 1: seconds of writes (default 60)")
    ap.add_argument("--subscribers", type=int, default=1_000, help="parts 2 and 3: streams (default 1,000)")
    ap.add_argument("--latency-seconds", type=float, default=20,
                    help="parts 2 and 3: seconds of writes at half the top rate (default 20)")
    ap.add_argument("--probe-seconds", type=float, default=5,
                    help="parts 2 and 3: seconds of the create_post top-rate probe (default 5, 64 connections)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--out", help="where realtime.md and realtime.json go (default bench/results; "
                                  "bench/results/tmp for --quick or one database only)")
    args = ap.parse_args()
    if args.quick:
        args.streams, args.all_streams, args.hold_rate, args.hold_seconds = 200, 20, 50, 2
        args.subscribers, args.latency_seconds, args.probe_seconds = 200, 3, 1
    asked = args.parts.split(",")
    args.parts = [p for p, on in (("hold", not args.pg_only), ("latency", not args.pg_only),
                                  ("pg", not args.sqlite_only and args.pg != "none")) if on and p in asked]
    return args


def raise_fd_limit():
    """Each stream is a descriptor in the server and one in the client: up to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    except (ValueError, OSError):  # an unlimited hard limit cannot be the soft one
        return soft


def build(args):
    """The server (unless POSTBASE_BIN names one) and the client; returns the client's path. A
    quick run builds the client unoptimised: it only has to be correct, and that builds faster."""
    env_bin = os.environ.get("POSTBASE_BIN")
    common.POSTBASE_BIN = env_bin if env_bin else TARGET / "release" / "postbase"
    if not env_bin and not args.no_build:
        run_cmd(["cargo", "build", "--release", "--bin", "postbase"], cwd=ROOT)
    profile = "dev" if args.quick else "release"
    if not args.no_build:
        run_cmd(["cargo", "build", "--profile", profile, "--manifest-path", str(CLIENT_DIR / "Cargo.toml"),
                 "--target-dir", str(TARGET / "realtime")], cwd=ROOT)
    client = TARGET / "realtime" / ("debug" if args.quick else "release") / "postbase-realtime"
    if not client.exists() or not os.path.exists(common.POSTBASE_BIN):
        sys.exit(f"missing {client} or {common.POSTBASE_BIN}: build them first")
    return client


def users_and_tokens():
    far = BASE_TS_US + 10 * 365 * 86400 * 10**6
    users = [(u, f"user{u}", f"user{u}@example.com", PW_HASH, BASE_TS_US + u) for u in range(1, N_USERS + 1)]
    tokens = [(hashlib.sha256(token_for(u).encode()).digest(), u, BASE_TS_US, far) for u in range(1, N_USERS + 1)]
    return users, tokens


def migrate(url):
    run_cmd([str(common.POSTBASE_BIN), "migrate", "--database-url", url], env=dict(os.environ, RUST_LOG="warn"))


def seed_sqlite(db):
    """A new SQLite file with the 1,000 users and their tokens, and no posts."""
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    migrate(f"sqlite://{db}")
    users, tokens = users_and_tokens()
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany("INSERT INTO users (id, username, email, password_hash, admin, version, created_at, "
                         "updated_at) VALUES (?, ?, ?, ?, 0, 1, ?, ?)", [u + (u[4],) for u in users])
        conn.executemany("INSERT INTO tokens (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)", tokens)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def seed_postgres(server, name):
    """A new PostgreSQL database `name`, migrated, with the same users and tokens."""
    drop_pg(server, name)
    psql(server, "postgres", f"CREATE DATABASE {name}")
    migrate(f"{server}/{name}?sslmode=disable")
    users, tokens = users_and_tokens()
    copy_in(server, name, "users (id, username, email, password_hash, admin, version, created_at, updated_at)",
            [(i, n, e, h, "false", 1, t, t) for i, n, e, h, t in users])
    copy_in(server, name, "tokens (hash, user_id, created_at, expires_at)",
            [("\\\\x" + h.hex(), u, c, x) for h, u, c, x in tokens])
    psql(server, name, "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users)); ANALYZE")


def stream_limits(n):
    """Serve flags that let one client address hold `n` streams, plus the writer's connections:
    every stream here comes from 127.0.0.1, which the per-address limits are meant to stop."""
    return ["--max-connections", max(10_000, n + 1_000), "--max-connections-per-ip", n + 1_000,
            "--events-max-subscribers", max(10_000, n), "--events-max-subscribers-per-ip", n]


class Client:
    def __init__(self, path, tokens):
        self.path, self.tokens = path, tokens

    def run(self, name, mode, timeout, **flags):
        """One run of the client; its JSON document. Exit 1 is a failed check, reported in it."""
        out = RT_WORK / f"{name}.json"
        out.unlink(missing_ok=True)
        cmd = [str(self.path), mode, "--tokens", str(self.tokens), "--json", str(out)]
        for k, v in flags.items():
            if v is None:
                continue
            cmd += ["--" + k.replace("_", "-"), str(v)]
        log("$ " + " ".join(cmd))
        rc = subprocess.run(cmd, stdout=sys.stderr, stdin=subprocess.DEVNULL, timeout=timeout).returncode
        if rc not in (0, 1) or not out.exists():
            raise RuntimeError(f"the realtime client failed ({name}, exit {rc})")
        return json.loads(out.read_text())


def probe(args, client, name, write, write_pid, cpu_of=None):
    """The top create_post rate on `write`, and half of it: the rate the streams are measured at."""
    probe = client.run(f"{name}-probe", "rate", args.probe_seconds + 60, write_addr=write, pid=write_pid,
                       cpu_of=cpu_of, connections=64, warmup=min(1, args.probe_seconds),
                       duration=args.probe_seconds)
    rate = probe["rps"] / 2
    if args.quick:
        rate = min(rate, 200)  # a correctness check: a debug build's top rate means nothing
    log(f"   create_post top rate {probe['rps']:,.0f}/s ({probe['errors']} errors); writing at {rate:,.0f}/s")
    time.sleep(2)  # the probe's last events dispatched before the streams open
    return probe, rate


def run_stream(args, client, name, rate, write, stream, write_pid, stream_pid, cpu_of=None):
    """`--subscribers` streams on `stream`, each following one author, while posts go to `write`."""
    return client.run(name, "stream", args.latency_seconds + 120, write_addr=write, stream_addr=stream,
                      pid=stream_pid, write_pid=write_pid, cpu_of=cpu_of, streams=args.subscribers,
                      all_streams=0, authors=min(N_USERS, args.subscribers), rate=f"{rate:.1f}",
                      duration=args.latency_seconds, hold=2, connections=64, drain=10)


def part_hold(args, client, seed_db):
    db = RT_WORK / "hold.db"
    copy_db(seed_db, db)
    srv = Server("postbase", db, extra_args=stream_limits(args.streams), name="realtime-hold")
    try:
        idle_kib = srv.mem_kib("VmRSS")
        addr = f"127.0.0.1:{srv.port}"
        doc = client.run("hold", "stream", args.hold_seconds + 180, write_addr=addr, pid=srv.proc.pid,
                         streams=args.streams, all_streams=args.all_streams, authors=N_USERS,
                         rate=args.hold_rate, duration=args.hold_seconds, hold=2 if args.quick else 10,
                         connections=8, open_concurrency=64, drain=15)
    finally:
        srv.stop()
    doc["server_idle_mib"] = idle_kib / 1024
    doc["flags"] = [str(f) for f in stream_limits(args.streams)]
    return doc


def part_latency(args, client, seed_db):
    db = RT_WORK / "latency.db"
    copy_db(seed_db, db)
    srv = Server("postbase", db, extra_args=stream_limits(args.subscribers), name="realtime-latency")
    try:
        addr, pid = f"127.0.0.1:{srv.port}", srv.proc.pid
        top, rate = probe(args, client, "latency", addr, pid)
        doc = run_stream(args, client, "latency", rate, addr, addr, pid, pid)
    finally:
        srv.stop()
    doc["probe"] = top
    return doc


def part_pg(args, client):
    name = f"bench_rt_{os.getpid()}"
    servers = []
    try:
        seed_postgres(args.pg, name)
        url = f"{args.pg}/{name}?sslmode=disable"
        flags = stream_limits(args.subscribers)
        a = Server("postbase", None, database_url=url, extra_args=flags, name="realtime-pg-a")
        servers.append(a)
        addr_a = f"127.0.0.1:{a.port}"
        # The top rate on A alone; B starts after it, for the streams.
        top, rate = probe(args, client, "pg", addr_a, a.proc.pid, cpu_of="postgres")
        b = Server("postbase", None, database_url=url, extra_args=flags, name="realtime-pg-b")
        servers.append(b)
        doc = run_stream(args, client, "pg", rate, addr_a, f"127.0.0.1:{b.port}", a.proc.pid, b.proc.pid,
                         cpu_of="postgres")
        doc["pg_version"] = psql(args.pg, name, "SHOW server_version").strip()
    finally:
        for s in servers:
            s.stop()
        drop_pg(args.pg, name)
    doc["probe"] = top
    return doc


def main():
    args = parse_args()
    t_start = time.time()
    fd_limit = raise_fd_limit()
    if "hold" in args.parts and fd_limit < args.streams + 1_100:
        sys.exit(f"the open-file hard limit is {fd_limit}: too low for {args.streams} streams")
    RT_WORK.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(parents=True, exist_ok=True)
    client_bin = build(args)
    tokens = RT_WORK / "tokens.txt"
    tokens.write_text("".join(token_for(u) + "\n" for u in range(1, N_USERS + 1)))
    client = Client(client_bin, tokens)
    run = {"args": vars(args), "machine": machine(), "fd_limit": fd_limit,
           "postbase": str(common.POSTBASE_BIN), "parts": {}, "load": {}}
    seed_db = RT_WORK / "seed.db"
    if "hold" in args.parts or "latency" in args.parts:
        seed_sqlite(seed_db)
    steps = {"hold": lambda: part_hold(args, client, seed_db),
             "latency": lambda: part_latency(args, client, seed_db),
             "pg": lambda: part_pg(args, client)}
    for part in args.parts:
        log(f"== realtime: {part}")
        run["load"][part] = os.getloadavg()
        run["parts"][part] = steps[part]()
    run["elapsed_s"] = time.time() - t_start
    partial = args.quick or args.parts != ["hold", "latency", "pg"]
    out_dir = Path(args.out) if args.out else RESULTS / "tmp" if partial else RESULTS
    sys.exit(0 if publish(run, out_dir) else 1)

"""The servers under test as processes: start, wait until ready, measure memory, stop; and a
one-request HTTP client."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from . import common
from .common import FLASK_DIR, WORK


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
    def __init__(self, kind, db, flask_workers=4, database_url=None, extra_args=(), name=None):
        """database_url (postbase only): serve this database (e.g. PostgreSQL) instead of db's file;
        extra_args (postbase only): more `serve` flags; name: of the log file, when several servers
        of one kind run at once."""
        self.kind = kind
        self.db = db
        self.port = free_port()
        self.log_path = WORK / f"{name or kind}.log"
        addr = f"127.0.0.1:{self.port}"
        env = dict(os.environ)
        if kind == "postbase":
            cmd = [str(common.POSTBASE_BIN), "serve", "--addr", addr, "--database-url",
                   database_url or f"sqlite://{db}", *map(str, extra_args)]
            env["RUST_LOG"] = "warn"
        elif kind == "bare":
            cmd = [str(common.BARE_BIN), addr, str(db)]
            env["BARE_READS"] = common.BARE_READS
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


"""Memory: postbase's idle RSS and its RSS while holding many keep-alive connections."""

import asyncio
import re
import time

from .common import WORK
from .seed import copy_db
from .server import Server


async def hold_connections(port, n, hold_s, sample):
    """Open n connections, make one keep-alive request on each, hold them all open."""
    conns = []
    ok = 0
    try:
        for i in range(n):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            conns.append((reader, writer))

        async def one(i, reader, writer):
            writer.write(f"GET /api/posts/{i + 1} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            await reader.readexactly(length)
            return head.startswith(b"HTTP/1.1 200")
        results = await asyncio.gather(*(one(i, r, w) for i, (r, w) in enumerate(conns)),
                                       return_exceptions=True)
        ok = sum(1 for x in results if x is True)
        await asyncio.sleep(hold_s)
        open_now = sum(1 for r, w in conns if not r.at_eof())
        return ok, open_now, sample()
    finally:
        for _, w in conns:
            w.close()


def memory_test(seed_db, conns):
    db = WORK / "mem-postbase.db"
    copy_db(seed_db, db)
    srv = Server("postbase", db)
    try:
        time.sleep(1.0)
        idle = srv.mem_kib("VmRSS")
        ok, open_now, held = asyncio.run(hold_connections(srv.port, conns, 1.0,
                                                          lambda: srv.mem_kib("VmRSS")))
        time.sleep(1.0)
        after = srv.mem_kib("VmRSS")
        hwm = srv.mem_kib("VmHWM")
    finally:
        srv.stop()
    return {"idle_rss_kib": idle, "connections": conns, "answered_200": ok,
            "still_open_after_hold": open_now, "rss_holding_kib": held,
            "rss_after_close_kib": after, "peak_rss_kib": hwm}


def idle_rss(kind, seed_db, flask_workers):
    db = WORK / f"idle-{kind}.db"
    copy_db(seed_db, db)
    srv = Server(kind, db, flask_workers)
    try:
        time.sleep(1.0)
        return srv.mem_kib("VmRSS")
    finally:
        srv.stop()


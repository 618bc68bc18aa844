"""The social section's tables, notes and targets (met / not met), from social.run_social's result."""

from .report import fmt_ms, fmt_rps

FEED_P99_MS, SEARCH_P99_MS, MAX_COST_RATIO = 10, 20, 2.0


def _get(res, server):
    return res.get(server) if res else None


def _posts(social, ds):
    return social["spec"][ds]["posts"]


def page_fill(social, ds, wl):
    """Mean posts on a page of a feed workload (deep pages are full by construction)."""
    if not wl.startswith("feed_first_"):
        return 20.0 if wl.startswith("feed_deep_") else None
    sizes = social["prep"][ds]["sizes"]
    readers = _class_readers(social, ds, int(wl.rsplit("_", 1)[1]))
    return sum(min(20, sizes[u]) for u in readers) / len(readers)


def _class_readers(social, ds, cls):
    spec = social["spec"][ds]
    i = list(spec["classes"]).index(cls)
    first = spec["users"] - len(spec["classes"]) * spec["readers"] + 1 + i * spec["readers"]
    return range(first, first + spec["readers"])


def main_table(social):
    """One row per workload on the large dataset: SQLite and PostgreSQL beside each other."""
    header = ["workload", "SQLite req/s", "SQLite p50 ms", "SQLite p99 ms", "PG req/s", "PG p50 ms", "PG p99 ms",
              "posts/page"]
    rows = []
    for wl, res in social["results"].items():
        s, p = _get(res, "sqlite@big"), _get(res, "pg@big")
        fill = page_fill(social, "big", wl)
        rows.append([wl, fmt_rps(s and s["rps"]), fmt_ms(s and s["p50_us"]), fmt_ms(s and s["p99_us"]),
                     fmt_rps(p and p["rps"]), fmt_ms(p and p["p50_us"]), fmt_ms(p and p["p99_us"]),
                     "-" if fill is None else f"{fill:.1f}"])
    return header, rows


def ratio(res, db, field="rps"):
    a, b = _get(res, f"{db}@small"), _get(res, f"{db}@big")
    if not a or not b or not a[field] or not b[field]:
        return None
    # cost per page = 1 / throughput; p99 grows with cost
    return a["rps"] / b["rps"] if field == "rps" else b[field] / a[field]


def scale_table(social):
    if "small" not in social["spec"]:
        return None
    small, big = _posts(social, "small"), _posts(social, "big")
    header = ["workload", f"SQLite req/s @{small:,}", f"@{big:,}", "cost ratio", "p99 ms small/big",
              f"PG req/s @{small:,}", f"@{big:,}", "cost ratio", "p99 ms small/big"]
    rows = []
    for wl, res in social["results"].items():
        if not wl.startswith("feed_"):
            continue
        row = [wl]
        for db in ("sqlite", "pg"):
            a, b, r = _get(res, f"{db}@small"), _get(res, f"{db}@big"), ratio(res, db)
            row += [fmt_rps(a and a["rps"]), fmt_rps(b and b["rps"]), "-" if r is None else f"{r:.2f}x",
                    f"{fmt_ms(a and a['p99_us'])} / {fmt_ms(b and b['p99_us'])}"]
        rows.append(row)
    return header, rows


def notes(social):
    spec, prep = social["spec"]["big"], social["prep"]["big"]
    out = [f"social dataset: {spec['users']:,} users, {spec['posts']:,} posts; readers per class "
           f"{spec['readers']}, following " + ", ".join(f"{v:,}" for v in spec["follows"].values()) + " people; "
           f"feed rows per reader: " + "; ".join(
               f"{c}: {min(prep['sizes'][u] for u in r):,}-{max(prep['sizes'][u] for u in r):,}"
               for c, r in zip(spec["classes"], (_class_readers(social, 'big', c) for c in spec["classes"])))]
    deep = social["prep"]["big"]["deep_readers"]
    out.append("deep pages: readers with a full page 90% down their feed on every dataset: " + ", ".join(
        f"class {c}: {len(v)}" for c, v in deep.items()))
    shares = prep["shares"]
    out.append("search matches (share of posts): " + "; ".join(
        f"{k.removeprefix('search_')} {min(v) * 100:.3g}-{max(v) * 100:.3g}%" for k, v in shares.items())
        + "; words: " + ", ".join(f"{k.removeprefix('search_')} {prep['queries'][k][:3]}" for k in shares))
    if not social["pg"]:
        out.append("PostgreSQL: not measured (not reachable)")
    seeding = ", ".join(f"{k[:-2]} {v:.0f}s" for k, v in social["seeding"].items())
    load = lambda k: "/".join(f"{x:.2f}" for x in social[k])
    out.append(f"social section: seeding {seeding} (0 = cached file); whole section {social['elapsed_s']:.0f}s; "
               f"load average (1/5/15 min) {load('loadavg_start')} at its start, {load('loadavg_end')} at its end")
    errors = {f"{w}/{k}": v["errors"] for w, res in social["results"].items() for k, v in res.items() if v and v["errors"]}
    if errors:
        out.append(f"SOCIAL NON-2XX OR SOCKET ERRORS (not comparable): {errors}")
    return out


def targets(social):
    out = []
    big = _posts(social, "big")

    def beside(res, field, fmt):
        p = _get(res, "pg@big")
        return f" (PostgreSQL {fmt(p[field])})" if p and p[field] else ""

    for wl, res in social["results"].items():
        s = _get(res, "sqlite@big")
        if not s:
            continue
        limit = FEED_P99_MS if wl.startswith("feed_") else SEARCH_P99_MS
        p99 = s["p99_us"]
        out.append([f"{wl} over {big:,} posts: p99 < {limit} ms (SQLite)",
                    ("-" if p99 is None else f"{p99 / 1000:.2f} ms") + beside(res, "p99_us", lambda v: f"{v / 1000:.2f} ms"),
                    "yes" if p99 is not None and p99 < limit * 1000 and not s["errors"] else "NO"])
    if "small" in social["spec"]:
        small = _posts(social, "small")
        for wl, res in social["results"].items():
            r = ratio(res, "sqlite")
            if not wl.startswith("feed_") or r is None:
                continue
            pg = ratio(res, "pg")
            out.append([f"{wl}: cost per page at {big:,} posts <= {MAX_COST_RATIO:g}x at {small:,} (SQLite)",
                        f"{r:.2f}x" + (f" (PostgreSQL {pg:.2f}x)" if pg else ""), "yes" if r <= MAX_COST_RATIO else "NO"])
    return out

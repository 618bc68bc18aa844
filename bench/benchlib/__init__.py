"""postbase vs. the Flask tutorial stack (and a bare axum + rusqlite server).

Run through `bench/run`, which makes the venv this needs. Steps:

1. build `postbase` and `postbase-bare-ref` in release (skip with --no-build);
2. seed one SQLite database (schema from `postbase migrate`, then 1,000 users,
   100,000 posts and one token per user, written directly with sqlite3);
3. check that postbase and the Flask reference answer the benchmarked routes
   alike (a contract smoke check; deviations are printed, not hidden);
4. for each workload start every server on its own copy of the database and
   run wrk against them in alternation (A B [C] A B [C] ...), same settings;
5. measure postbase's idle RSS and its RSS while holding 1,000 keep-alive
   connections;
6. the social section (social.py): feed and search pages over 10,000 users and
   1,000,000 posts, postbase on SQLite and on PostgreSQL, and the feed again over
   10,000 posts for the cost of a page against the table's size (--no-social to
   skip it, --social-only to run only it; --quick runs a tiny version);
7. print the table and write bench/results/results.json, results.md and
   chart.png.
"""

# Layout, one module per concern (imports only go down this list):
#   common.py     paths, the seeded data's constants, tokens and cursors, log, run_cmd
#   report.py     medians, the results table, the targets (met / not met), text and Markdown tables
#   chart.py      chart.png
#   server.py     the servers as processes (start, ready, RSS, stop) and a one-request HTTP client
#   seed.py       the seeded SQLite database, and argon2id timing
#   tools.py      cargo builds, the binaries a run uses, wrk
#   workloads.py  the workloads: wrk Lua scripts and which servers run each
#   load.py       wrk runs, the A B (C) rounds of a workload, the gunicorn worker sweep
#   memory.py     postbase's RSS idle and holding keep-alive connections
#   contract.py   postbase and Flask must answer the benchmarked requests alike (posts, users)
#   contract_social.py  the same for comments, likes and tags
#   social_data.py  the social dataset, generated: activity, follows, readers, post texts
#   social_seed.py  it in SQLite, cached under target/bench-social/
#   social_pg.py    it in PostgreSQL, copied from the SQLite file and checked against it
#   social.py       the feed and search workloads on SQLite and PostgreSQL, in alternation
#   social_report.py  their tables, notes and targets
#   output.py     notes, stdout, results.json / results.md / chart.png
#   cli.py        the flags and the run from start to finish
# and, for bench/realtime (its own command; the streams and the checks are bench/realtime_client):
#   realtime.py   the event-stream parts: seeding, servers, the client's runs, the flags
#   realtime_report.py  their targets, details, realtime.md and realtime.json

"""The postbase API written the way the Flask REST tutorial would write it.

This is the *reference* that bench/run compares postbase against: Flask +
Flask-SQLAlchemy + flask-cors, the token check in a `token_required`
decorator, `jsonify` everywhere. It follows postbase's contract
(docs/contract-notes.md; comments, likes and tags as postbase serves them)
for the benchmarked routes so both servers do the same work on the same
SQLite file:

    POST  /api/users        POST /api/tokens        GET /api/profile
    GET   /api/posts        POST /api/posts         (?tag= ?author= ?liked_by=)
    GET   /api/posts/<id>   PUT, PATCH, DELETE /api/posts/<id>
    PUT, DELETE /api/posts/<id>/like
    GET, POST /api/posts/<id>/comments
    GET, PATCH, DELETE /api/comments/<id>
    GET   /api/tags

It opens an existing database (created by `postbase migrate`) and adds only
its own tag tables to it (`flask --app app init-db`, which bench/run runs
when it seeds; see models.py). Durability matches postbase:
journal_mode=WAL, synchronous=NORMAL.

Layout: app.py (the app, the database, start-up), models.py, helpers.py
(JSON shapes, errors, cursors, tokens), then the routes by resource:
users.py (users, tokens, profile), posts.py, comments.py, likes.py (likes
and the tag list).

Run:  POSTBASE_BENCH_DB=/abs/path.db gunicorn -w 2 -b 127.0.0.1:8001 app:app
"""

import os

from argon2 import PasswordHasher
from flask import Flask, jsonify
from flask_cors import CORS
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

DB_PATH = os.environ.get("POSTBASE_BENCH_DB", os.path.abspath("postbase.db"))
TOKEN_TTL_US = 30 * 24 * 3600 * 1_000_000  # tokens expire after 30 days, like postbase

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + DB_PATH
app.json.sort_keys = False
CORS(app)  # Enables CORS for all routes
db = SQLAlchemy(app)

# argon2id, m=19456 KiB, t=2, p=1 -- the same parameters postbase uses.
ph = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)


@event.listens_for(Engine, "connect")
def set_sqlite_pragma(dbapi_connection, connection_record):
    # Same durability and behaviour as postbase: WAL, synchronous=NORMAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@app.cli.command("init-db")
def init_db():
    """Create the tables this app needs that the database does not have yet (its tag tables)."""
    db.create_all()


@app.route("/healthz")
def healthz():
    return jsonify(status="ok")


# The routes register themselves on `app` when imported (after `app` and `db` exist).
import users, posts, comments, likes  # noqa: E402,F401

"""The postbase API written the way the Flask REST tutorial would write it.

This is the *reference* that bench/run compares postbase against: Flask +
Flask-SQLAlchemy + flask-cors, the token check in a `token_required`
decorator, `jsonify` everywhere. It follows postbase's contract
(docs/contract-notes.md) for the benchmarked routes so both servers do the
same work on the same SQLite file:

    POST  /api/users        POST /api/tokens        GET /api/profile
    GET   /api/posts        POST /api/posts
    GET   /api/posts/<id>   PATCH /api/posts/<id>

It opens an existing database (created by `postbase migrate`); it never
creates or changes the schema. Durability matches postbase:
journal_mode=WAL, synchronous=NORMAL.

Run:  POSTBASE_BENCH_DB=/abs/path.db gunicorn -w 2 -b 127.0.0.1:8001 app:app
"""

import base64
import hashlib
import os
import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, InvalidHashError
from flask import Flask, g, jsonify, request
from flask_cors import CORS
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

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


# --- models: mapped onto postbase's schema (migrations/sqlite/0001_init.sql) ---

class User(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String, unique=True, nullable=False)
    email = db.Column(db.String)
    password_hash = db.Column(db.String, nullable=False)
    admin = db.Column(db.Integer, nullable=False, default=0)
    version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(db.Integer, nullable=False)
    updated_at = db.Column(db.Integer, nullable=False)


class Token(db.Model):
    __tablename__ = "tokens"
    hash = db.Column(db.LargeBinary, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.Integer, nullable=False)
    expires_at = db.Column(db.Integer, nullable=False)


class Post(db.Model):
    __tablename__ = "posts"
    id = db.Column(db.Integer, primary_key=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    title = db.Column(db.String, nullable=False)
    body = db.Column(db.String, nullable=False, default="")
    version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(db.Integer, nullable=False)
    updated_at = db.Column(db.Integer, nullable=False)


# --- helpers ---

def now_us():
    return time.time_ns() // 1000


def rfc3339(us):
    dt = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=us)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error(message, status, code=None, fields=None):
    payload = {"error": message}
    if code:
        payload["code"] = code
    if fields:
        payload["fields"] = fields
    return jsonify(payload), status


def user_json(user, with_email=False):
    data = {"id": user.id, "username": user.username, "created_at": rfc3339(user.created_at)}
    if with_email:
        data["email"] = user.email
    return data


def post_json(post):
    return {
        "id": post.id,
        "title": post.title,
        "body": post.body,
        "author_id": post.author_id,
        "created_at": rfc3339(post.created_at),
        "updated_at": rfc3339(post.updated_at),
    }


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def encode_cursor(kind, last_id):
    id_be = last_id.to_bytes(8, "big")
    tag = hashlib.sha256(b"postbase-cursor-v1" + kind + id_be).digest()[:8]
    return b64url(kind + id_be + tag)


def decode_cursor(kind, cursor):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) != 17 or raw[:1] != kind:
        return None
    id_be = raw[1:9]
    if hashlib.sha256(b"postbase-cursor-v1" + kind + id_be).digest()[:8] != raw[9:]:
        return None
    return int.from_bytes(id_be, "big")


def verify_token(header):
    if not header.startswith("Bearer "):
        return None
    token = header[len("Bearer "):]
    token_hash = hashlib.sha256(token.encode()).digest()
    row = Token.query.get(token_hash)
    if row is None or row.expires_at <= now_us():
        return None
    return User.query.get(row.user_id)


def token_required(f):
    @wraps(f)
    def decorated(*args, **kwargs):
        token = request.headers.get("Authorization")
        user = verify_token(token) if token else None
        if user is None:
            resp, status = error("Invalid token", 401, "invalid_token")
            resp.headers["WWW-Authenticate"] = "Bearer"
            return resp, status
        g.current_user = user
        return f(*args, **kwargs)
    return decorated


USERNAME_RE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- routes ---

@app.route("/healthz")
def healthz():
    return jsonify(status="ok")


@app.route("/api/users", methods=["POST"])
def create_user():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error("Request body must be a JSON object", 400, "invalid_json")
    if not data.get("username"):
        return error("Username required", 400, "field_required", {"username": "is required"})
    if not data.get("password"):
        return error("Password required", 400, "field_required", {"password": "is required"})
    fields = {}
    username, password, email = data["username"], data["password"], data.get("email")
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        fields["username"] = "must be 3-32 characters of letters, digits, _ or -"
    if not isinstance(password, str) or not 8 <= len(password) <= 128:
        fields["password"] = "must be 8-128 characters"
    if email is not None and (not isinstance(email, str) or not EMAIL_RE.match(email)):
        fields["email"] = "must be an email address"
    if fields:
        return error("Validation failed", 400, "validation_failed", fields)
    if User.query.filter(User.username == username).first() is not None:
        return error("Username already taken", 409, "conflict")
    ts = now_us()
    user = User(username=username, email=email, password_hash=ph.hash(password),
                created_at=ts, updated_at=ts)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return error("Username already taken", 409, "conflict")
    resp = jsonify(user_json(user))
    resp.headers["Location"] = f"/api/users/{user.id}"
    return resp, 201


@app.route("/api/tokens", methods=["POST"])
def create_token():
    data = request.get_json(silent=True) or {}
    username, password = data.get("username"), data.get("password")
    user = None
    if isinstance(username, str) and isinstance(password, str):
        user = User.query.filter(User.username == username).first()
    try:
        if user is None:
            raise VerificationError()
        ph.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return error("Invalid username or password", 401, "invalid_credentials")
    token = "pb_" + b64url(secrets.token_bytes(32))
    ts = now_us()
    row = Token(hash=hashlib.sha256(token.encode()).digest(), user_id=user.id,
                created_at=ts, expires_at=ts + TOKEN_TTL_US)
    db.session.add(row)
    db.session.commit()
    return jsonify(token=token, expires_at=rfc3339(row.expires_at),
                   user=user_json(user, with_email=True)), 201


@app.route("/api/profile")
@token_required
def profile():
    return jsonify(user_json(g.current_user, with_email=True))


@app.route("/api/posts", methods=["GET", "POST"])
def posts():
    if request.method == "GET":
        return list_posts()
    return create_post()


def list_posts():
    limit = request.args.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        return error("Invalid limit: must be an integer from 1 to 100", 400, "validation_failed",
                     {"limit": "must be an integer from 1 to 100"})
    limit = int(limit)
    query = Post.query
    author = request.args.get("author")
    if author is not None:
        if not author.isdigit():
            return error("Invalid author: must be a user id", 400, "validation_failed",
                         {"author": "must be a user id"})
        query = query.filter(Post.author_id == int(author))
    cursor = request.args.get("cursor")
    if cursor is not None:
        cursor_id = decode_cursor(b"p", cursor)
        if cursor_id is None:
            return error("Invalid cursor", 400, "invalid_cursor",
                         {"cursor": "is not a cursor this list gave out"})
        query = query.filter(Post.id < cursor_id)
    rows = query.order_by(Post.id.desc()).limit(limit + 1).all()
    page = rows[:limit]
    next_cursor = encode_cursor(b"p", page[-1].id) if len(rows) > limit else None
    resp = jsonify(posts=[post_json(p) for p in page], next_cursor=next_cursor)
    if next_cursor:
        link = f"/api/posts?limit={limit}&cursor={next_cursor}"
        if author is not None:
            link += f"&author={author}"
        resp.headers["Link"] = f'<{link}>; rel="next"'
    return resp


@token_required
def create_post():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error("Request body must be a JSON object", 400, "invalid_json")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        return error("Title required", 400, "field_required", {"title": "is required"})
    title = title.strip()
    body = data.get("body", "")
    if len(title) > 200:
        return error("Validation failed", 400, "validation_failed", {"title": "at most 200 characters"})
    if not isinstance(body, str) or len(body.encode()) > 65536:
        return error("Validation failed", 400, "validation_failed", {"body": "at most 64 KiB"})
    ts = now_us()
    post = Post(author_id=g.current_user.id, title=title, body=body, version=1,
                created_at=ts, updated_at=ts)
    db.session.add(post)
    db.session.commit()
    resp = jsonify(post_json(post))
    resp.headers["Location"] = f"/api/posts/{post.id}"
    resp.headers["ETag"] = f'"{post.version}"'
    return resp, 201


@app.route("/api/posts/<int:id>", methods=["GET", "PATCH"])
def post(id):
    if request.method == "GET":
        return get_post(id)
    return patch_post(id)


def get_post(id):
    post = Post.query.get(id)
    if post is None:
        return error("Post not found", 404, "not_found")
    etag = f'"{post.version}"'
    if request.headers.get("If-None-Match") == etag:
        return "", 304, {"ETag": etag}
    resp = jsonify(post_json(post))
    resp.headers["ETag"] = etag
    return resp


@token_required
def patch_post(id):
    post = Post.query.get(id)
    if post is None:
        return error("Post not found", 404, "not_found")
    if post.author_id != g.current_user.id and not g.current_user.admin:
        return error("Only the author may change this post", 403, "forbidden")
    if_match = request.headers.get("If-Match")
    if if_match is not None and if_match != f'"{post.version}"':
        return error("Precondition failed", 412, "precondition_failed")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error("Request body must be a JSON object", 400, "invalid_json")
    if "title" in data:
        title = data["title"]
        if not isinstance(title, str) or not title.strip():
            return error("Title required", 400, "field_required", {"title": "is required"})
        if len(title.strip()) > 200:
            return error("Validation failed", 400, "validation_failed", {"title": "at most 200 characters"})
        post.title = title.strip()
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str) or len(body.encode()) > 65536:
            return error("Validation failed", 400, "validation_failed", {"body": "at most 64 KiB"})
        post.body = body
    post.version += 1
    post.updated_at = now_us()
    db.session.commit()
    resp = jsonify(post_json(post))
    resp.headers["ETag"] = f'"{post.version}"'
    return resp

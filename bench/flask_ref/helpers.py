"""What the routes share: JSON shapes, errors, cursors, paging, tags and the token check."""

import base64
import hashlib
import re
import time
from datetime import datetime, timedelta, timezone
from functools import wraps

from flask import g, jsonify, request

from models import Like, Tag, Token, User

TAG_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


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
    data = {"id": user.id, "username": user.username}
    if with_email:
        data["email"] = user.email
        data["admin"] = bool(user.admin)
    data.update({"bio": user.bio or "", "image": user.image, "follower_count": user.follower_count or 0,
                 "following_count": user.following_count or 0, "post_count": user.post_count or 0,
                 "created_at": rfc3339(user.created_at)})
    return data


def post_json(post, viewer=None):
    """A post; `liked` only for a `viewer` (a request with a valid token that reads the post)."""
    data = {
        "id": post.id,
        "title": post.title,
        "body": post.body,
        "summary": post.summary or "",
        "author_id": post.author_id,
        "tags": [t.name for t in post.tags],
        "like_count": post.like_count,
        "comment_count": post.comment_count,
    }
    if viewer is not None:
        data["liked"] = Like.query.get((viewer.id, post.id)) is not None
    data["created_at"] = rfc3339(post.created_at)
    data["updated_at"] = rfc3339(post.updated_at)
    return data


def post_response(post, viewer=None, status=200):
    """A post with its ETag: the version, the counts and, for a viewer, whether they like it, so
    that the tag changes whenever anything that viewer sees changes (as postbase's does)."""
    data = post_json(post, viewer)
    liked = {True: "-l", False: "-n"}.get(data.get("liked"), "")
    resp = jsonify(data)
    resp.status_code = status
    resp.headers["ETag"] = f'"{post.version}-{post.like_count}-{post.comment_count}{liked}"'
    resp.headers["Vary"] = "Authorization"
    return resp


def if_match_fails(version):
    """Whether an If-Match names another version (its first part: a post's tag has more)."""
    if_match = request.headers.get("If-Match")
    return if_match is not None and if_match.strip('"').split("-")[0] != str(version)


def comment_json(comment):
    return {
        "id": comment.id,
        "post_id": comment.post_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "created_at": rfc3339(comment.created_at),
        "updated_at": rfc3339(comment.updated_at),
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


def page_args(kind):
    """`?limit=` and `?cursor=` of a list: (limit, cursor id or None, None) or (.., .., error)."""
    limit = request.args.get("limit", "20")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        return None, None, error("Invalid limit: must be an integer from 1 to 100", 400, "validation_failed",
                                 {"limit": "must be an integer from 1 to 100"})
    cursor = request.args.get("cursor")
    cursor_id = None
    if cursor:
        cursor_id = decode_cursor(kind, cursor)
        if cursor_id is None:
            return None, None, error("Invalid cursor", 400, "invalid_cursor",
                                     {"cursor": "is not a cursor this list gave out"})
    return int(limit), cursor_id, None


def parse_tags(value):
    """A post's tags as sent: a list of at most 10 words, lower-cased, duplicates dropped, in
    order. Returns (names, None) or (None, the problem)."""
    if not isinstance(value, list) or len(value) > 10:
        return None, "must be a list of at most 10 tags"
    names = []
    for t in value:
        if not isinstance(t, str) or not TAG_RE.match(t):
            return None, "each tag must be 1-32 letters, digits, '-' or '_'"
        if t.lower() not in names:
            names.append(t.lower())
    return names, None


def tags_named(names):
    """The Tag rows for these names, making the ones that do not exist yet."""
    tags = []
    for name in names:
        tag = Tag.query.filter_by(name=name).first()
        if tag is None:
            tag = Tag(name=name)
        tags.append(tag)
    return tags


def verify_token(header):
    if not header.startswith("Bearer "):
        return None
    token = header[len("Bearer "):]
    token_hash = hashlib.sha256(token.encode()).digest()
    row = Token.query.get(token_hash)
    if row is None or row.expires_at <= now_us():
        return None
    return User.query.get(row.user_id)


def invalid_token():
    resp, status = error("Invalid token", 401, "invalid_token")
    resp.headers["WWW-Authenticate"] = "Bearer"
    return resp, status


def token_required(f):
    @wraps(f)
    def decorated(*args, **kwargs):
        token = request.headers.get("Authorization")
        user = verify_token(token) if token else None
        if user is None:
            return invalid_token()
        g.current_user = user
        return f(*args, **kwargs)
    return decorated


def token_optional(f):
    """Like token_required, for reads that answer anyone: g.current_user is None without a token;
    a token that is sent must be valid."""
    @wraps(f)
    def decorated(*args, **kwargs):
        token = request.headers.get("Authorization")
        g.current_user = None
        if token:
            g.current_user = verify_token(token)
            if g.current_user is None:
                return invalid_token()
        return f(*args, **kwargs)
    return decorated

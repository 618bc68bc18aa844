"""Users, tokens and the profile."""

import hashlib
import re
import secrets

from argon2.exceptions import InvalidHashError, VerificationError
from flask import g, jsonify, request
from sqlalchemy.exc import IntegrityError

from app import TOKEN_TTL_US, app, db, ph
from helpers import b64url, error, now_us, rfc3339, token_required, user_json
from models import Token, User

USERNAME_RE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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

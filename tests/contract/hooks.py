"""Schemathesis hooks: a real bearer token for the operations that need one.

Each refresh signs up a fresh account and logs it in, so that the fuzzer deleting its own account
or logging its own token out (both legitimate operations) cannot starve the rest of the run.
"""
import os
import secrets

import requests
import schemathesis

BASE = os.environ["POSTBASE_URL"]
PASSWORD = "schemathesis password"


@schemathesis.auth(refresh_interval=2)
class FreshAccount:
    def get(self, case, ctx):
        username = "st_" + secrets.token_hex(6)
        r = requests.post(f"{BASE}/api/users", json={"username": username, "password": PASSWORD}, timeout=10)
        r.raise_for_status()
        r = requests.post(f"{BASE}/api/tokens", json={"username": username, "password": PASSWORD}, timeout=10)
        r.raise_for_status()
        return r.json()["token"]

    def set(self, case, data, ctx):
        # Only where the document asks for a token: ignored_auth then checks the others refuse none.
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"

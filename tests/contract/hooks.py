"""Schemathesis hooks: a real bearer token for the operations that need one.

One account for as long as its token works, so that what the fuzzer creates (a post, via the
document's links) it may then edit and delete: the writes are tested succeeding, not only refused
as someone else's. When the fuzzer deletes that account or logs its token out (both legitimate
operations), the next refresh signs up a fresh account, so the rest of the run is not starved.
"""
import os
import re
import secrets

import requests
import schemathesis

BASE = os.environ["POSTBASE_URL"]
VALID_KEY = re.compile(r"[!-~]{1,255}")
PASSWORD = "schemathesis password"


@schemathesis.auth(refresh_interval=1)
class CurrentAccount:
    token = None

    def get(self, case, ctx):
        if self.token and self._works(self.token):
            return self.token
        username = "st_" + secrets.token_hex(6)
        r = requests.post(f"{BASE}/api/users", json={"username": username, "password": PASSWORD}, timeout=10)
        r.raise_for_status()
        r = requests.post(f"{BASE}/api/tokens", json={"username": username, "password": PASSWORD}, timeout=10)
        r.raise_for_status()
        self.token = r.json()["token"]
        return self.token

    @staticmethod
    def _works(token):
        r = requests.get(f"{BASE}/api/profile", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        return r.status_code == 200

    def set(self, case, data, ctx):
        # Only where the document asks for a token: ignored_auth then checks the others refuse none.
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """A valid generated Idempotency-Key made unique to its request. Schemathesis draws few distinct
    header values, so a key came back on a later POST and got the first answer replayed, as it
    should: the 201 of a post created, and since deleted, earlier in the run; its stateful check
    then took the replayed id for a new resource and reported it missing (ST302). Invalid keys are
    left as generated, to be refused; reuse of a key is tested in tests/api/idempotency.rs."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = key[:200] + "-" + secrets.token_hex(8)

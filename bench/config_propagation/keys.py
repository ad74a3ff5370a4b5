"""What an API key looks like in a registry: a JSON value naming the secret's SHA-256."""

from __future__ import annotations

import hashlib
import json


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()



def key_value(secret: str) -> str:
    return json.dumps({"secret_sha256": sha256_hex(secret), "topics": ["bench.*"]}, separators=(",", ":"))


"""Schemathesis hooks for the contract test (tests/contract/run_schemathesis.sh).

NDJSON batch bodies: the spec describes them as an array of record objects; on the wire each
item is one line. Anything that is not a list (negative tests) goes as its JSON text.
"""
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, list):
        return "".join(json.dumps(item) + "\n" for item in value).encode()
    return json.dumps(value).encode()

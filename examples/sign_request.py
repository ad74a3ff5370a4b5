#!/usr/bin/env python3
"""Reference client signer for Intake's X-Intake-Signature v2 (docs/access-control.md).

Standard library only. Prints the X-Intake-Signature value for a request:

    examples/sign_request.py --secret "$SIGNING_SECRET" --method POST \
        --path '/v1/topics/events.orders?sync=true' \
        -H 'Content-Type: application/json' -H 'X-Intake-Record-Key: order-42' \
        --body-file order.json

With --curl it prints a whole curl command line instead (add --url-base and --key).
--canonical prints the canonical string the MAC is computed over (to compare with a
client of your own). The secret may also come from INTAKE_SIGNING_SECRET.
"""

import argparse
import hashlib
import hmac
import os
import re
import secrets
import shlex
import sys
import time

SCHEME = "INTAKE-HMAC-SHA256-V2"
NONCE = re.compile(r"[A-Za-z0-9_-]{16,128}")
ALWAYS_SIGNED = ("content-type", "content-encoding", "idempotency-key")


def is_signed(lower_name, copy_headers):
    if lower_name.startswith("x-intake-"):
        return lower_name != "x-intake-signature"
    return lower_name in ALWAYS_SIGNED or lower_name in copy_headers


def canonical_query(query):
    if not query:
        return ""
    parameters = []
    for text in query.split(b"&"):
        name, _, value = text.partition(b"=")
        parameters.append((name, value, text))
    parameters.sort(key=lambda p: (p[0], p[1]))  # stable, bytewise, as the gateway sorts
    return b"&".join(p[2] for p in parameters).decode("latin-1")


def canonical_string(method, path, query, headers, body, timestamp, nonce, copy_headers=()):
    """headers: (name, value) pairs in the order they are sent, repeats included."""
    copied = {name.lower() for name in copy_headers}
    lines = {}
    for name, value in headers:
        lower = name.lower()
        if not is_signed(lower, copied):
            continue
        value = value.strip(" \t")
        lines[lower] = lines[lower] + "," + value if lower in lines else value
    out = [SCHEME, method, path, canonical_query(query.encode("latin-1"))]
    text = "\n".join(out) + "\n"
    for name in sorted(lines):
        text += name + ":" + lines[name] + "\n"
    text += hashlib.sha256(body).hexdigest() + "\n" + str(timestamp) + "\n" + nonce
    return text


def sign(secret, method, path, query, headers, body, timestamp, nonce, copy_headers=()):
    text = canonical_string(method, path, query, headers, body, timestamp, nonce, copy_headers)
    mac = hmac.new(secret.encode(), text.encode("latin-1"), hashlib.sha256).hexdigest()
    return "t=%d,n=%s,v2=%s" % (timestamp, nonce, mac)


def parse_header(text):
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError("a header is 'Name: value', got %r" % text)
    return name.strip(), value


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secret", default=os.environ.get("INTAKE_SIGNING_SECRET"),
                        help="the key's signing_secret (default: $INTAKE_SIGNING_SECRET)")
    parser.add_argument("--method", default="POST")
    parser.add_argument("--path", required=True, help="path and query as sent, e.g. /v1/topics/t?sync=true")
    parser.add_argument("-H", "--header", action="append", type=parse_header, default=[],
                        help="a header that will be sent, 'Name: value' (repeatable)")
    parser.add_argument("--body-file", help="the body as sent (default: empty; '-' reads stdin)")
    parser.add_argument("--copy-header", action="append", default=[],
                        help="a header name in the gateway's kafka.copy_headers (repeatable)")
    parser.add_argument("--timestamp", type=int, help="unix seconds (default: now)")
    parser.add_argument("--nonce", help="16-128 chars of [A-Za-z0-9_-] (default: random)")
    parser.add_argument("--canonical", action="store_true", help="print the canonical string instead")
    parser.add_argument("--curl", action="store_true", help="print a whole curl command line")
    parser.add_argument("--url-base", default="http://127.0.0.1:8080", help="with --curl")
    parser.add_argument("--key", help="with --curl: the API key, sent as Authorization: Bearer")
    args = parser.parse_args(argv)

    if not args.secret:
        parser.error("--secret (or INTAKE_SIGNING_SECRET) is required")
    nonce = args.nonce or secrets.token_urlsafe(24)
    if not NONCE.fullmatch(nonce):
        parser.error("the nonce must be 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-'")
    timestamp = args.timestamp if args.timestamp is not None else int(time.time())
    if args.body_file == "-":
        body = sys.stdin.buffer.read()
    elif args.body_file:
        with open(args.body_file, "rb") as f:
            body = f.read()
    else:
        body = b""
    path, _, query = args.path.partition("?")

    if args.canonical:
        sys.stdout.write(canonical_string(args.method, path, query, args.header, body, timestamp, nonce,
                                          args.copy_header))
        sys.stdout.write("\n")
        return 0
    signature = sign(args.secret, args.method, path, query, args.header, body, timestamp, nonce, args.copy_header)
    if not args.curl:
        print(signature)
        return 0
    command = ["curl", "-sS", "-X", args.method]
    if args.key:
        command += ["-H", "Authorization: Bearer " + args.key]
    for name, value in args.header:
        command += ["-H", name + ":" + value]
    if args.body_file and not any(name.lower() == "content-type" for name, _ in args.header):
        # curl would add Content-Type: application/x-www-form-urlencoded, which is signed.
        command += ["-H", "Content-Type:"]
    command += ["-H", "X-Intake-Signature: " + signature]
    if args.body_file:
        command += ["--data-binary", "@" + args.body_file]
    command.append(args.url_base.rstrip("/") + args.path)
    print(" ".join(shlex.quote(part) for part in command))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

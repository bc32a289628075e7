#!/usr/bin/env python3
"""Mint the tokens in fixture.json with an implementation independent of msgo.

It follows the token format of docs/protocol.md literally: key = SHA-256(secret), AES-256-GCM,
12-byte nonce, no additional data, token = base64url without padding of
nonce || ciphertext || tag. Needs the `cryptography` package.

The nonces are fixed so that running this again reproduces fixture.json byte for
byte; a real minter must draw a fresh random nonce for every token.

    python3 mint_fixture.py > fixture.json
"""
import base64
import hashlib
import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET = "fixture secret \u00e9 not for production"
CTIME = 1700000000
NOW = CTIME + 30

# (claims as the backend sends them, the Claims msgo must read back)
CASES = [
    (
        {"id": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "type": "wechatUser", "code": "room-42",
         "nickname": "Alice", "ctime": CTIME},
        {"id": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "type": "wechatUser", "code": "room-42",
         "nickname": "Alice", "ctime": CTIME},
    ),
    (
        # An integer id, as PHP's json_encode writes an int user id; key order
        # differs, code is empty, and an unknown key is ignored.
        {"ctime": CTIME - 3600, "type": "kefu", "id": 10086, "code": "",
         "nickname": "\u5ba2\u670d\u5c0f\u7f8e", "extra": {"a": [1, "}"]}},
        {"id": "10086", "type": "kefu", "code": "",
         "nickname": "\u5ba2\u670d\u5c0f\u7f8e", "ctime": CTIME - 3600},
    ),
    (
        # Raw UTF-8 instead of \u escapes, and a quote inside a string.
        {"id": "wall-1", "type": "wall", "code": "room-42",
         "nickname": "Grand \"Hall\" \u00e9cran", "ctime": CTIME + 50},
        {"id": "wall-1", "type": "wall", "code": "room-42",
         "nickname": "Grand \"Hall\" \u00e9cran", "ctime": CTIME + 50},
    ),
]


def mint(secret, claims, nonce, ensure_ascii):
    key = hashlib.sha256(secret.encode("utf-8")).digest()
    plain = json.dumps(claims, ensure_ascii=ensure_ascii).encode("utf-8")
    sealed = AESGCM(key).encrypt(nonce, plain, None)  # ciphertext || tag
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")


def main():
    out = {"secret": SECRET, "now": NOW, "cases": []}
    for i, (sent, want) in enumerate(CASES):
        nonce = bytes(range(i, i + 12))
        token = mint(SECRET, sent, nonce, ensure_ascii=(i != 2))
        out["cases"].append({"token": token, "claims": want})
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

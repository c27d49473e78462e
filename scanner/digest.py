"""SHA-256 without loading OpenSSL where CPython has its own.

``hashlib`` loads libcrypto, ~3 ms of a blocked commit's start-up, for a few
short digests (fingerprints, cache keys). CPython ships its own SHA-256
(``_sha2`` from 3.12, ``_sha256`` before): the same function, the same digests
(tests/detect_test.py checks against hashlib).
"""
from __future__ import annotations

import functools
from typing import Any


@functools.lru_cache(maxsize=None)
def sha256() -> Any:
    """The ``sha256`` constructor: CPython's own, else hashlib's."""
    try:
        from _sha2 import sha256 as own
    except ImportError:
        try:
            from _sha256 import sha256 as own
        except ImportError:  # another interpreter, or a build without them
            from hashlib import sha256 as own
    return own


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 digest of ``data``."""
    return str(sha256()(data).hexdigest())

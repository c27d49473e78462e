"""Offline structural checks a rule can ask for with ``validate = "<name>"``.

A validator looks only at the secret itself (no network): a checksum the
provider embeds in its token format, or a decoding that must succeed for the
value to be what the rule claims. A failed validation means "not this kind of
secret", so the detector drops the hit. Every validator is cheap and runs on
regex hits only, never on whole files.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections.abc import Callable
from typing import Optional

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number: int, width: int = 6) -> str:
    """``number`` in base62 (``0-9A-Za-z``), left-padded with ``0`` to ``width``."""
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def github_crc32(secret: str) -> bool:
    """GitHub-style token checksum: the last 6 characters are the base62 CRC32
    of the random part before them (prefix excluded).

    GitHub's 2021 formats (``ghp_`` ``gho_`` ``ghu_`` ``ghs_`` ``ghr_``) and
    npm's ``npm_`` tokens use it: 30 random base62 characters, then the
    6-character checksum. See
    https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
    """
    body = secret.rsplit("_", 1)[-1]
    if len(body) < 7 or not body.isascii() or not body.isalnum():
        return False
    random_part, checksum = body[:-6], body[-6:]
    return base62(zlib.crc32(random_part.encode("ascii"))) == checksum


def _b64decode(value: str) -> Optional[bytes]:
    """Standard or URL-safe base64, padding optional; None when it is not base64."""
    cleaned = value.strip().replace("\\n", "").replace("\n", "")
    cleaned = cleaned.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        return None


def jwt_header(secret: str) -> bool:
    """A JWT's first segment is base64url JSON naming its algorithm (``alg``)."""
    header = _b64decode(secret.split(".", 1)[0])
    if header is None:
        return False
    try:
        data = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and ("alg" in data or "typ" in data or "enc" in data)


def jwt_service_role(secret: str) -> bool:
    """A JWT whose payload grants Supabase's ``service_role`` (bypasses row-level security)."""
    parts = secret.split(".")
    if len(parts) < 2 or not jwt_header(secret):
        return False
    payload = _b64decode(parts[1])
    return payload is not None and b'"service_role"' in payload


# Passwords of documentation examples and default accounts (RFC 7617's own
# example is Aladdin:open sesame): a Basic value decoding to one of them is
# an example, not a credential.
_DOC_PASSWORDS = frozenset({
    "pass", "passwd", "pwd", "tiger", "changeit", "open sesame", "1234", "12345", "123456",
    "qwerty", "letmein", "foo", "bar", "baz", "foobar", "test", "demo",
})


def base64_userpass(secret: str) -> bool:
    """Base64 of ``user:password`` (RFC 7617) with a plausible password.

    The user must be printable text. The password must be at least 3
    characters and neither a placeholder, a documentation value, nor the user
    name again (admin:admin). A few undecodable bytes in the password are
    tolerated (a password is opaque bytes to the protocol). An empty password
    counts only when the user part is itself key-shaped (API keys sent as the
    Basic user name: ``key:``).
    """
    from scanner.entropy import is_placeholder, shannon_entropy

    raw = _b64decode(secret)
    if raw is None:
        return False
    user_raw, sep, password_raw = raw.partition(b":")
    if not sep or not user_raw:
        return False
    try:
        user = user_raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    password = password_raw.decode("utf-8", "replace")
    if not user.isprintable() or password.count("\ufffd") > 2:
        return False
    if not password:
        return len(user) >= 16 and shannon_entropy(user) >= 3.5 and not is_placeholder(user)
    if len(password) < 3 or not password.replace("\ufffd", "").isprintable():
        return False
    if password.lower() == user.lower() or password.lower() in _DOC_PASSWORDS:
        return False
    return not is_placeholder(password) and not is_placeholder(user + ":" + password)


def base64_private_key(secret: str) -> bool:
    """Base64 whose decoding is a PEM private key block (kubeconfig ``client-key-data``)."""
    raw = _b64decode(secret)
    return raw is not None and b"PRIVATE KEY-----" in raw[:200] and b"-----BEGIN" in raw[:60]


def base64_bytes(length: int) -> Callable[[str], bool]:
    """Base64 decoding to exactly ``length`` bytes (e.g. Azure storage keys are 64)."""

    def check(secret: str) -> bool:
        raw = _b64decode(secret)
        return raw is not None and len(raw) == length

    check.__doc__ = f"Base64 decoding to exactly {length} bytes."
    return check


BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {c: i for i, c in enumerate(BASE58)}


def base58check(length: int) -> Callable[[str], bool]:
    """Bitcoin's Base58Check of a ``length``-byte payload: the last 4 bytes are the first 4 of the
    payload's double SHA-256 (extended keys, xprv/tprv: 78 bytes; WIF keys: 33 or 34)."""

    def check(secret: str) -> bool:
        number = 0
        for char in secret:
            digit = _BASE58_INDEX.get(char)
            if digit is None:
                return False
            number = number * 58 + digit
        size = length + 4
        if number >> (8 * size):
            return False
        raw = number.to_bytes(size, "big")
        payload, checksum = raw[:-4], raw[-4:]
        return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum

    check.__doc__ = f"Base58Check of a {length}-byte payload."
    return check


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32(secret: str) -> bool:
    """A BIP-173 bech32 string (``hrp1data``) whose checksum verifies (Nostr's nsec keys, age's
    secret keys are upper case bech32)."""
    value = secret.lower()
    hrp, sep, data = value.rpartition("1")
    if not sep or not hrp or len(data) < 6 or any(c not in _BECH32 for c in data):
        return False
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + [_BECH32.index(c) for c in data]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= g if (top >> i) & 1 else 0
    return chk == 1


def der_private_key(secret: str) -> bool:
    """Binary content (latin-1 text, see ``content = "binary"``) that is one DER private key."""
    from scanner import der

    return der.private_key(secret.encode("latin-1", "replace"))


def pkcs12_store(secret: str) -> bool:
    """Binary content (latin-1 text) that is a PKCS#12 / PFX store."""
    from scanner import der

    return der.pkcs12(secret.encode("latin-1", "replace"))


def java_keystore(secret: str) -> bool:
    """A JKS/JCEKS store (latin-1 text) holding a private or secret key, not only trusted certificates.

    The format (magic, version, entry count, then per entry a tag, an alias, a
    timestamp and its data) is walked entry by entry: tag 1 is a private key,
    3 (JCEKS) a secret key, 2 a trusted certificate. A store that cannot be
    walked to its end is presumed to hold keys (fail closed); a truststore of
    certificates only (``cacerts``) holds nothing secret.
    """
    data = secret.encode("latin-1", "replace")
    if len(data) < 12 or data[:4] not in (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce"):
        return False
    pos, count = 12, int.from_bytes(data[8:12], "big")

    def number(size: int) -> int:
        nonlocal pos
        if pos + size > len(data):
            raise ValueError("truncated")
        value = int.from_bytes(data[pos:pos + size], "big")
        pos += size
        return value

    def skip(size: int) -> None:
        nonlocal pos
        if pos + size > len(data):
            raise ValueError("truncated")
        pos += size

    def certificate() -> None:
        skip(number(2))  # certificate type ("X.509"), modified UTF-8
        skip(number(4))  # encoded certificate

    try:
        for _ in range(min(count, 100000)):
            tag = number(4)
            if tag != 2:
                return True  # a private key (1), a secret key (3) or an entry this walk cannot read
            skip(number(2))  # alias
            skip(8)  # creation time
            certificate()
    except ValueError:
        return True
    return False


# The names rule files may use in ``validate = "..."``.
VALIDATORS: dict[str, Callable[[str], bool]] = {
    "github-crc32": github_crc32,
    "jwt": jwt_header,
    "jwt-service-role": jwt_service_role,
    "base64-userpass": base64_userpass,
    "base64-private-key": base64_private_key,
    "base64-64-bytes": base64_bytes(64),
    "base64-32-bytes": base64_bytes(32),
    "der-private-key": der_private_key,
    "pkcs12": pkcs12_store,
    "java-keystore": java_keystore,
    "base58check-78": base58check(78),
    "bech32": bech32,
}


# ``validate = "!<name>"`` inverts a validator: the rule fires only where the
# check fails. A rule whose message states a validation outcome ("checksum does
# not verify") must carry that outcome itself, not rely on a stronger rule
# taking the verified matches: that rule may be disabled.
NEGATION = "!"


def known_validator(name: str) -> bool:
    """True when ``name`` (or, negated, ``!name``) is a validator rule files may use."""
    return name.removeprefix(NEGATION) in VALIDATORS


def validate(name: str, secret: str) -> bool:
    """Run validator ``name`` on ``secret``; ``!name`` passes where ``name`` fails
    (unknown names are rejected at load time)."""
    if name.startswith(NEGATION):
        return not VALIDATORS[name[len(NEGATION):]](secret)
    return VALIDATORS[name](secret)

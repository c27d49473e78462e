"""Telling public key material from secrets by content, not by file name.

A ``.pem`` file is as often a CA bundle, a server certificate or a public key
as a private key. Its PEM labels say which: a file whose every block is a
certificate, a certificate request, a CRL, public key or parameters, and that
never mentions a private key, holds nothing secret.
"""
from __future__ import annotations

import re
from typing import Optional

_LABEL = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
PUBLIC_LABELS = frozenset({
    "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE", "X509 CRL", "CERTIFICATE REQUEST",
    "NEW CERTIFICATE REQUEST", "PUBLIC KEY", "RSA PUBLIC KEY", "DSA PUBLIC KEY", "EC PARAMETERS",
    "DH PARAMETERS", "X9.42 DH PARAMETERS", "PKCS7", "CMS", "SSH2 PUBLIC KEY", "PGP PUBLIC KEY BLOCK",
})


def public_material_only(text: Optional[str]) -> bool:
    """True when ``text`` holds PEM blocks and every one is public (certificates, public keys, CRLs)."""
    if not text or "PRIVATE" in text.upper():
        return False
    labels = _LABEL.findall(text)
    return bool(labels) and all(label in PUBLIC_LABELS for label in labels)


_SEQUENCE, _INTEGER, _BIT_STRING, _OCTET_STRING = 0x30, 0x02, 0x03, 0x04


def _der_element(data: bytes, pos: int) -> Optional[tuple[int, int, int]]:
    """(tag, start of content, end of content) of the DER element at ``pos``, or None if malformed."""
    if pos + 2 > len(data):
        return None
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            return None  # indefinite length is BER, not DER; over 4 GB is not a key file
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        return None
    return tag, pos, pos + length


def _der_children(data: bytes, start: int, end: int) -> Optional[list[int]]:
    """The tags of the elements between ``start`` and ``end``, or None if they do not tile it exactly."""
    tags: list[int] = []
    pos = start
    while pos < end:
        element = _der_element(data, pos)
        if element is None or element[2] > end:
            return None
        tags.append(element[0])
        pos = element[2]
    return tags


def der_public_only(data: bytes) -> bool:
    """True when ``data`` is one DER certificate (or CRL) or SubjectPublicKeyInfo.

    Told apart by the outer SEQUENCE's elements: a certificate is
    SEQUENCE{SEQUENCE tbs, SEQUENCE alg, BIT STRING}, a public key
    SEQUENCE{SEQUENCE alg, BIT STRING}. Private keys start with an INTEGER
    (PKCS#1, PKCS#8, PKCS#12) or pair an algorithm with an OCTET STRING
    (EncryptedPrivateKeyInfo). Anything else, or anything malformed, is not
    public: the caller keeps treating it as a secret file.
    """
    outer = _der_element(data, 0)
    if outer is None or outer[0] != _SEQUENCE or outer[2] != len(data):
        return False
    tags = _der_children(data, outer[1], outer[2])
    return tags in ([_SEQUENCE, _SEQUENCE, _BIT_STRING], [_SEQUENCE, _BIT_STRING])


def public_key_material(data: Optional[bytes]) -> bool:
    """True when a key-named file holds only public material, as PEM text or as one DER structure."""
    if not data:
        return False
    if b"-----BEGIN " in data:
        return public_material_only(data.decode("utf-8", "replace"))
    return der_public_only(data)

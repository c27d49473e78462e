"""Reading DER (ASN.1) structure: enough to tell a private key or a keystore from a certificate.

Key files and keystores are judged by their structure, not their names: the
audit asks whether a ``.pem``/``.key`` holds only public material, and the
detector's binary rules ask whether a ``.der``/``.p12`` really is a private
key or a PKCS#12 store. Only the outer layers are read (tags and lengths), never
the key itself, and anything malformed is "not this structure".
"""
from __future__ import annotations

from typing import Optional

SEQUENCE, INTEGER, BIT_STRING, OCTET_STRING, OID = 0x30, 0x02, 0x03, 0x04, 0x06
# PKCS#7 content types a PFX's authSafe may carry: data, signedData.
_PKCS7_DATA = bytes.fromhex("2a864886f70d010701")
_PKCS7_SIGNED = bytes.fromhex("2a864886f70d010702")


def element(data: bytes, pos: int) -> Optional[tuple[int, int, int]]:
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


def children(data: bytes, start: int, end: int) -> Optional[list[tuple[int, int, int]]]:
    """The elements between ``start`` and ``end``, or None if they do not tile it exactly."""
    found: list[tuple[int, int, int]] = []
    pos = start
    while pos < end:
        item = element(data, pos)
        if item is None or item[2] > end:
            return None
        found.append(item)
        pos = item[2]
    return found


def _outer(data: bytes) -> Optional[list[tuple[int, int, int]]]:
    """The elements of ``data``'s one outer SEQUENCE (which must span all of it)."""
    outer = element(data, 0)
    if outer is None or outer[0] != SEQUENCE or outer[2] != len(data):
        return None
    return children(data, outer[1], outer[2])


def _small_int(data: bytes, item: tuple[int, int, int]) -> Optional[int]:
    tag, start, end = item
    if tag != INTEGER or not 0 < end - start <= 2:
        return None
    return int.from_bytes(data[start:end], "big")


def public_only(data: bytes) -> bool:
    """True when ``data`` is one DER certificate (or CRL) or SubjectPublicKeyInfo.

    Told apart by the outer SEQUENCE's elements: a certificate is
    SEQUENCE{SEQUENCE tbs, SEQUENCE alg, BIT STRING}, a public key
    SEQUENCE{SEQUENCE alg, BIT STRING}.
    """
    items = _outer(data)
    tags = [item[0] for item in items] if items is not None else None
    return tags in ([SEQUENCE, SEQUENCE, BIT_STRING], [SEQUENCE, BIT_STRING])


def private_key(data: bytes) -> bool:
    """True when ``data`` is one DER private key: PKCS#1 RSA, DSA, SEC1 EC, PKCS#8 or encrypted PKCS#8.

    - PKCS#1 RSA: SEQUENCE{INTEGER 0, then 8 more INTEGERs} (DSA: 0 then 5).
    - SEC1 EC: SEQUENCE{INTEGER 1, OCTET STRING, [0] params?, [1] public key?}.
    - PKCS#8: SEQUENCE{INTEGER 0|1, SEQUENCE algorithm, OCTET STRING key, ...}.
    - EncryptedPrivateKeyInfo: SEQUENCE{SEQUENCE algorithm, OCTET STRING}.
    """
    items = _outer(data)
    if not items:
        return False
    tags = [item[0] for item in items]
    version = _small_int(data, items[0])
    if version is None:
        return tags == [SEQUENCE, OCTET_STRING] and items[1][2] - items[1][1] >= 16
    if version == 0 and tags in ([INTEGER] * 9, [INTEGER] * 6):
        return True
    if version == 1 and tags[:2] == [INTEGER, OCTET_STRING] and all(t in (0xA0, 0xA1) for t in tags[2:]):
        return items[1][2] - items[1][1] >= 16
    return version in (0, 1) and tags[1:3] == [SEQUENCE, OCTET_STRING] and items[2][2] - items[2][1] >= 16


def pkcs12(data: bytes) -> bool:
    """True when ``data`` is a PKCS#12 store (PFX): SEQUENCE{INTEGER 3, ContentInfo, MacData?}.

    The ContentInfo is SEQUENCE{OID data|signedData, [0] content} (RFC 7292, section 4).
    """
    items = _outer(data)
    if not items or len(items) not in (2, 3) or _small_int(data, items[0]) != 3 or items[1][0] != SEQUENCE:
        return False
    info = children(data, items[1][1], items[1][2])
    if not info or info[0][0] != OID:
        return False
    return data[info[0][1]:info[0][2]] in (_PKCS7_DATA, _PKCS7_SIGNED) and len(info) == 2 and info[1][0] == 0xA0

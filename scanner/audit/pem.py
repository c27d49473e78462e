"""Telling public key material from secrets by content, not by file name.

A ``.pem`` file is as often a CA bundle, a server certificate or a public key
as a private key. Its PEM labels say which: a file whose every block is a
certificate, a certificate request, a CRL, public key or parameters, and that
never mentions a private key, holds nothing secret.
"""
from __future__ import annotations

import re
from typing import Optional

from scanner import der

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


def der_public_only(data: bytes) -> bool:
    """True when ``data`` is one DER certificate (or CRL) or SubjectPublicKeyInfo (see ``scanner.der``).

    Private keys start with an INTEGER (PKCS#1, PKCS#8, PKCS#12) or pair an
    algorithm with an OCTET STRING (EncryptedPrivateKeyInfo). Anything else,
    or anything malformed, is not public: the caller keeps treating it as a
    secret file.
    """
    return der.public_only(data)


def public_key_material(data: Optional[bytes]) -> bool:
    """True when a key-named file holds only public material, as PEM text or as one DER structure."""
    if not data:
        return False
    if b"-----BEGIN " in data:
        return public_material_only(data.decode("utf-8", "replace"))
    return der_public_only(data)

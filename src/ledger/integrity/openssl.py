"""Ed25519 in OpenSSL's libcrypto, called through ctypes so that the GIL is released.

Why: ``cryptography``'s ``Ed25519PublicKey.verify`` holds the GIL for its whole ~0.1 ms. In a
server that verifies on one thread and commits on another, every SQLite statement of the
group commit then waits for the verification in progress to finish before it can take the
GIL back, several times per transaction: measured, that costs about 40 % of the append rate
over HTTP. ctypes releases the GIL around each foreign call, so here the committer runs while
a signature is being checked, and two checks can run on two cores.

Same answers: ``cryptography`` computes Ed25519 with OpenSSL too (RFC 8032, with OpenSSL's
checks on the encoding of R, S and the key). ``tests/unit/test_signing.py`` checks that both
agree on the RFC 8032 vectors and on forged, truncated and non-canonical signatures.

The library used is the system ``libcrypto`` (the one Python's own ``hashlib`` links on this
platform). If it cannot be loaded, or ``LEDGER_OPENSSL_VERIFY=0``, :func:`verifier` returns
``None`` and callers use ``cryptography``. Signing (the ledger's receipts) works the same way:
Ed25519 signatures are deterministic, so both paths give identical bytes (tested).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from typing import Any

_NID_ED25519 = 1087
"""``EVP_PKEY_ED25519`` (``NID_ED25519`` in OpenSSL's ``obj_mac.h``)."""


class _LibCrypto:
    """The handful of libcrypto functions needed, with their C signatures declared."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        p, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
        self.new_raw_public_key = _declare(lib.EVP_PKEY_new_raw_public_key, p, [i, p, p, sz])
        self.pkey_free = _declare(lib.EVP_PKEY_free, None, [p])
        self.ctx_new = _declare(lib.EVP_MD_CTX_new, p, [])
        self.ctx_free = _declare(lib.EVP_MD_CTX_free, None, [p])
        self.verify_init = _declare(lib.EVP_DigestVerifyInit, i, [p, p, p, p, p])
        self.verify = _declare(lib.EVP_DigestVerify, i, [p, p, sz, p, sz])
        self.new_raw_private_key = _declare(lib.EVP_PKEY_new_raw_private_key, p, [i, p, p, sz])
        self.sign_init = _declare(lib.EVP_DigestSignInit, i, [p, p, p, p, p])
        self.sign = _declare(lib.EVP_DigestSign, i, [p, p, ctypes.POINTER(sz), p, sz])


def _declare(fn: Any, restype: Any, argtypes: list[Any]) -> Any:
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


@functools.cache
def _libcrypto() -> _LibCrypto | None:
    if os.environ.get("LEDGER_OPENSSL_VERIFY", "1") == "0":
        return None
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    try:
        return _LibCrypto(ctypes.CDLL(name))
    except (OSError, AttributeError):  # not there, or an OpenSSL without these functions
        return None


class OpenSSLVerifier:
    """One public key loaded into libcrypto; :meth:`verify` releases the GIL."""

    __slots__ = ("_lib", "_pkey")

    def __init__(self, lib: _LibCrypto, pkey: int) -> None:
        self._lib = lib
        self._pkey = pkey

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True iff ``signature`` (64 bytes) is valid for ``message``."""
        lib = self._lib
        ctx = lib.ctx_new()
        if not ctx:
            raise MemoryError("EVP_MD_CTX_new failed")
        try:
            if lib.verify_init(ctx, None, None, None, self._pkey) != 1:
                return False
            return bool(lib.verify(ctx, signature, len(signature), message, len(message)) == 1)
        finally:
            lib.ctx_free(ctx)

    def __del__(self) -> None:
        if self._pkey:
            self._lib.pkey_free(self._pkey)
            self._pkey = 0


class OpenSSLSigner:
    """One private key loaded into libcrypto; :meth:`sign` releases the GIL. Ed25519 is
    deterministic, so the signatures are byte-identical to ``cryptography``'s."""

    __slots__ = ("_lib", "_pkey")

    def __init__(self, lib: _LibCrypto, pkey: int) -> None:
        self._lib = lib
        self._pkey = pkey

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        lib = self._lib
        ctx = lib.ctx_new()
        if not ctx:
            raise MemoryError("EVP_MD_CTX_new failed")
        try:
            out = ctypes.create_string_buffer(64)
            size = ctypes.c_size_t(64)
            if (
                lib.sign_init(ctx, None, None, None, self._pkey) != 1
                or lib.sign(ctx, out, ctypes.byref(size), message, len(message)) != 1
                or size.value != 64
            ):
                msg = "EVP_DigestSign failed"
                raise RuntimeError(msg)
            return out.raw
        finally:
            lib.ctx_free(ctx)

    def __del__(self) -> None:
        if self._pkey:
            self._lib.pkey_free(self._pkey)
            self._pkey = 0


def signer(private_key: bytes) -> OpenSSLSigner | None:
    """A GIL-releasing signer for a 32-byte Ed25519 private key (seed), or ``None`` (see
    :func:`verifier`)."""
    lib = _libcrypto()
    if lib is None or len(private_key) != 32:
        return None
    pkey = lib.new_raw_private_key(_NID_ED25519, None, private_key, len(private_key))
    if not pkey:
        return None
    return OpenSSLSigner(lib, pkey)


def verifier(public_key: bytes) -> OpenSSLVerifier | None:
    """A GIL-releasing verifier for a 32-byte Ed25519 public key, or ``None`` when libcrypto
    is unavailable (see module docstring) or rejects the key."""
    lib = _libcrypto()
    if lib is None or len(public_key) != 32:
        return None
    pkey = lib.new_raw_public_key(_NID_ED25519, None, public_key, len(public_key))
    if not pkey:
        return None
    return OpenSSLVerifier(lib, pkey)

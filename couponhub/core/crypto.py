"""Symmetric encryption for secrets kept at rest (API client secrets, pickup passwords).

A token is AES-CCM (NIST SP 800-38C: AES-128, 13-byte random nonce, 16-byte tag, no associated
data), written as hex: ``c1`` + nonce + ciphertext + tag. The AES key of each entry of
FIELD_ENCRYPTION_KEYS (Fernet keys, newest first) is derived from it with HKDF-SHA256; a token
of an older key still decrypts, and so does a Fernet token written before this format.

Pickup passwords come by the million, so :func:`encrypt_many` and :func:`decrypt_many_bytes`
compute CCM for a whole chunk of values of up to 16 bytes with a few AES calls over all of them
(CBC-MAC and counter blocks laid side by side) instead of a call per value. They give exactly
what the single-value functions (``cryptography``'s AESCCM) give; the tests check that.
"""

import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver

VERSION = 0xC1
_PREFIX = f"{VERSION:02x}"
_NONCE = 13  # bytes; leaves 2 bytes (L = 2) for the length, so values up to 65,535 bytes
_TAG = 16
_OVERHEAD = 1 + _NONCE + _TAG  # version byte, nonce, tag
_B0_FLAGS = 8 * ((_TAG - 2) // 2) + (15 - _NONCE - 1)  # no associated data, M' = 7, L' = 1
_COUNTER_FLAGS = 15 - _NONCE - 1


@dataclass(frozen=True)
class _Keyring:
    aes_keys: tuple[bytes, ...]  # newest first
    fernet: MultiFernet  # reads tokens written before the AES-CCM format


@cache
def _keyring() -> _Keyring:
    keys = settings.FIELD_ENCRYPTION_KEYS
    aes_keys = tuple(
        HKDF(
            algorithm=hashes.SHA256(), length=16, salt=None, info=b"couponhub field aes-ccm v1"
        ).derive(key.encode())
        for key in keys
    )
    return _Keyring(aes_keys, MultiFernet([Fernet(key.encode()) for key in keys]))


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        _keyring.cache_clear()


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESCCM(_keyring().aes_keys[0], tag_length=_TAG).encrypt(
        nonce, plaintext.encode(), None
    )
    return _PREFIX + (nonce + sealed).hex()


def decrypt(token: str) -> str:
    return _decrypt_one(token.encode()).decode()


def _decrypt_one(token: bytes) -> bytes:
    if not token.startswith(_PREFIX.encode()):
        try:
            return _keyring().fernet.decrypt(token)
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong FIELD_ENCRYPTION_KEY or damaged value") from exc
    try:
        raw = bytes.fromhex(token.decode("ascii"))
    except ValueError as exc:
        raise ValueError("cannot decrypt: damaged value") from exc
    nonce, sealed = raw[1 : 1 + _NONCE], raw[1 + _NONCE :]
    for key in _keyring().aes_keys:
        try:
            return AESCCM(key, tag_length=_TAG).decrypt(nonce, sealed, None)
        except (InvalidTag, ValueError):
            continue
    raise ValueError("cannot decrypt: wrong FIELD_ENCRYPTION_KEY or damaged value")


# ---------------------------------------------------------------------------
# Many values at once
# ---------------------------------------------------------------------------


def _xor(a: bytes | bytearray, b: bytes | bytearray) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _aes_blocks(key: bytes, blocks: bytes | bytearray) -> bytes:
    """AES of each 16-byte block (the raw block cipher CCM is built on), all in one call."""
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(bytes(blocks)) + encryptor.finalize()


def _columns(dest: bytearray, dest_at: int, dest_step: int, src, src_at: int, src_step: int, n):
    """Copy `n` bytes of each record from `src` into each record of `dest`: one strided slice per
    byte position, instead of a slice per record."""
    for k in range(n):
        dest[dest_at + k :: dest_step] = src[src_at + k :: src_step]


class _Chunk:
    """The CCM blocks of `count` values of one length (1 to 16 bytes) under nonces laid end to
    end: B0 (the CBC-MAC's first block), A0 and A1 (the counter blocks for the tag and the
    value), each as `count` blocks side by side."""

    def __init__(self, nonces, nonce_at: int, nonce_step: int, count: int, length: int):
        self.count, self.length = count, length
        self.b0, self.a0, self.a1 = (bytearray(16 * count) for _ in range(3))
        for blocks, first in ((self.b0, _B0_FLAGS), (self.a0, _COUNTER_FLAGS)):
            blocks[0::16] = bytes((first,)) * count
            _columns(blocks, 1, 16, nonces, nonce_at, nonce_step, _NONCE)
        self.a1[:] = self.a0
        self.b0[14::16] = bytes((length >> 8,)) * count
        self.b0[15::16] = bytes((length & 0xFF,)) * count
        self.a1[15::16] = b"\x01" * count

    def tags(self, key: bytes, padded_values: bytes | bytearray, s0: bytes) -> bytes:
        """The tags (CBC-MAC over B0 and the zero-padded value, masked with A0's key stream)."""
        macs = _aes_blocks(key, _xor(_aes_blocks(key, self.b0), padded_values))
        return _xor(macs, s0)

    def padded(self, data, data_at: int, data_step: int) -> bytearray:
        """The values (or ciphertexts) of each record as one zero-padded block each."""
        blocks = bytearray(16 * self.count)
        _columns(blocks, 0, 16, data, data_at, data_step, self.length)
        return blocks


def encrypt_many(plaintexts: list[str]) -> list[str]:
    """Tokens for many values at once, the same format as :func:`encrypt`; values of up to 16
    bytes, grouped by length, take a few AES calls per group, any other value its own call."""
    datas = [text.encode() for text in plaintexts]
    tokens: list[str | None] = [None] * len(datas)
    key = _keyring().aes_keys[0]
    for length, indexes in _by_length(datas).items():
        if not 1 <= length <= 16:
            for i in indexes:
                tokens[i] = encrypt(plaintexts[i])
            continue
        count = len(indexes)
        nonces = os.urandom(_NONCE * count)
        chunk = _Chunk(nonces, 0, _NONCE, count, length)
        values = chunk.padded(b"".join(_pick(datas, indexes)), 0, length)
        ciphertexts = _xor(values, _aes_blocks(key, chunk.a1))
        tags = chunk.tags(key, values, _aes_blocks(key, chunk.a0))
        size = _OVERHEAD + length
        raw = bytearray(size * count)
        raw[0::size] = bytes((VERSION,)) * count
        _columns(raw, 1, size, nonces, 0, _NONCE, _NONCE)
        _columns(raw, 1 + _NONCE, size, ciphertexts, 0, 16, length)
        _columns(raw, 1 + _NONCE + length, size, tags, 0, 16, _TAG)
        text, width = raw.hex(), 2 * size
        _put(tokens, indexes, [text[at : at + width] for at in range(0, width * count, width)])
    return tokens  # type: ignore[return-value]


def decrypt_many(tokens: list[str]) -> list[str]:
    """The plaintexts of many tokens at once: the same as :func:`decrypt` on each."""
    plaintexts = decrypt_many_bytes([token.encode() for token in tokens])
    return [plaintext.decode() for plaintext in plaintexts]


def decrypt_many_bytes(tokens: list[bytes]) -> list[bytes]:
    """:func:`decrypt_many` for tokens given as ASCII bytes, plaintexts returned as UTF-8 bytes
    (what a file writer wants). Tokens of the newest key holding up to 16 bytes are checked and
    decrypted together, a few AES calls per length; any other token (an older key's, a longer
    value, a Fernet token) on its own. A damaged token raises ValueError."""
    values: list[bytes | None] = [None] * len(tokens)
    key = _keyring().aes_keys[0]
    for width, indexes in _by_length(tokens).items():
        length = width // 2 - _OVERHEAD
        if width % 2 or not 1 <= length <= 16:
            continue
        joined = b"".join(_pick(tokens, indexes))
        count, size = len(indexes), _OVERHEAD + length
        try:
            raw = bytes.fromhex(joined.decode("ascii"))
        except ValueError:
            continue  # not this format (or damaged): one by one below
        # lower-case hex only, as written (fromhex would also take capitals and spaces)
        if not joined.islower() or len(raw) != size * count:
            continue
        if raw[0::size] != bytes((VERSION,)) * count:
            continue
        chunk = _Chunk(raw, 1, size, count, length)
        plain = bytearray(_xor(chunk.padded(raw, 1 + _NONCE, size), _aes_blocks(key, chunk.a1)))
        for k in range(length, 16):  # the key stream beyond the value is not part of it
            plain[k::16] = bytes(count)
        expected = chunk.tags(key, plain, _aes_blocks(key, chunk.a0))
        stored = bytearray(16 * count)
        _columns(stored, 0, 16, raw, 1 + _NONCE + length, size, _TAG)
        plain = bytes(plain)
        found = [plain[at : at + length] for at in range(0, 16 * count, 16)]
        if not hmac.compare_digest(expected, bytes(stored)):  # some are not the newest key's
            found = [
                value if hmac.compare_digest(expected[at : at + 16], stored[at : at + 16]) else None
                for at, value in zip(range(0, 16 * count, 16), found, strict=True)
            ]
        _put(values, indexes, found)
    if None not in values:
        return values  # type: ignore[return-value]
    for i, value in enumerate(values):
        if value is None:  # an older key's token, a longer value, a Fernet token, or damage
            values[i] = _decrypt_one(tokens[i])
    return values  # type: ignore[return-value]


def reencrypt_many(tokens: list[str]) -> tuple[list[str | None], list[int]]:
    """For each token, a new one under the newest key, or None where it is one already (an
    AES-CCM token the newest key opens); and the positions of the tokens no key opens (damaged,
    or of a key no longer configured), which are left as they are."""
    newest = AESCCM(_keyring().aes_keys[0], tag_length=_TAG)
    stale: list[int] = []
    for i, token in enumerate(tokens):
        try:
            raw = bytes.fromhex(token[len(_PREFIX) :]) if token.startswith(_PREFIX) else b""
            newest.decrypt(raw[:_NONCE], raw[_NONCE:], None)
        except (InvalidTag, ValueError):
            stale.append(i)
    try:
        plaintexts: list[str | None] = list(decrypt_many([tokens[i] for i in stale]))
    except ValueError:  # one of them is unreadable: find it, keep the others
        plaintexts = []
        for i in stale:
            try:
                plaintexts.append(decrypt(tokens[i]))
            except ValueError:
                plaintexts.append(None)
    readable = [(i, p) for i, p in zip(stale, plaintexts, strict=True) if p is not None]
    unreadable = [i for i, p in zip(stale, plaintexts, strict=True) if p is None]
    fresh = encrypt_many([p for _i, p in readable])
    renewed: list[str | None] = [None] * len(tokens)
    for (i, _p), token in zip(readable, fresh, strict=True):
        renewed[i] = token
    return renewed, unreadable


def _by_length(items: list) -> dict[int, range | list[int]]:
    """The positions of `items` by their length (one range when all have the same length)."""
    lengths = set(map(len, items))
    if len(lengths) == 1:
        return {lengths.pop(): range(len(items))}
    groups: dict[int, list[int]] = {}
    for i, length in enumerate(map(len, items)):
        groups.setdefault(length, []).append(i)
    return groups


def _pick(items: list, indexes: range | list[int]) -> list:
    return items if len(indexes) == len(items) else [items[i] for i in indexes]


def _put(dest: list, indexes: range | list[int], values: list) -> None:
    if len(indexes) == len(dest):
        dest[:] = values
    else:
        for i, value in zip(indexes, values, strict=True):
            dest[i] = value


class EncryptedTextField(models.TextField):
    """Stores a token, hands out the plaintext."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)

"""Symmetric encryption for secrets kept at rest (API client secrets, pickup passwords)."""

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.db import models


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def _primary_keys() -> tuple[bytes, bytes]:
    """(signing key, encryption key) of the newest Fernet key."""
    key = base64.urlsafe_b64decode(settings.FIELD_ENCRYPTION_KEYS[0])
    return key[:16], key[16:]


_PADDING = [bytes((n,)) * n for n in range(17)]  # PKCS#7 padding of n bytes
_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _hmac_sha256_many(key: bytes, messages: list[bytes]) -> list[bytes]:
    """HMAC-SHA256 (RFC 2104) of each message: the same digests as hmac.digest, but the keyed
    inner and outer hash states are made once and copied, which is over twice as fast for
    short messages as a fresh OpenSSL HMAC per message."""
    block = key.ljust(64, b"\0")  # Fernet's signing key is 16 bytes: never longer than a block
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    digests = []
    for message in messages:
        h = inner.copy()
        h.update(message)
        o = outer.copy()
        o.update(h.digest())
        digests.append(o.digest())
    return digests


def encrypt_many(plaintexts: list[str]) -> list[str]:
    """Fernet tokens for many values at once (same format as :func:`encrypt`, readable by
    :func:`decrypt`), several times faster for short values such as pickup passwords.

    A value of up to 15 bytes pads to one AES block, and CBC over one block is
    AES(block XOR IV): all the blocks are XORed and encrypted in one call each. Each token
    still has its own random IV and its own HMAC."""
    if not plaintexts:
        return []
    signing_key, encryption_key = _primary_keys()
    aes = algorithms.AES(encryption_key)
    header = b"\x80" + struct.pack(">Q", int(time.time()))
    datas = [text.encode() for text in plaintexts]
    size = 16 * len(datas)
    ivs = os.urandom(size)
    if all(len(data) < 16 for data in datas):
        blocks = b"".join([data + _PADDING[16 - len(data)] for data in datas])
        encryptor = Cipher(aes, modes.ECB()).encryptor()
        ciphertext = encryptor.update(_xor(blocks, ivs)) + encryptor.finalize()
        bodies = [header + ivs[i : i + 16] + ciphertext[i : i + 16] for i in range(0, size, 16)]
    else:
        bodies = []
        for i, data in enumerate(datas):
            iv = ivs[16 * i : 16 * i + 16]
            encryptor = Cipher(aes, modes.CBC(iv)).encryptor()
            padded = data + _PADDING[16 - len(data) % 16]
            bodies.append(header + iv + encryptor.update(padded) + encryptor.finalize())
    macs = _hmac_sha256_many(signing_key, bodies)
    tokens = [body + mac for body, mac in zip(bodies, macs, strict=True)]
    # b2a_base64 ends each token with a newline: one translate and one split for them all.
    text = b"".join(map(binascii.b2a_base64, tokens)).translate(_URL_SAFE).decode()
    return text.split("\n")[:-1]


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong FIELD_ENCRYPTION_KEY or damaged value") from exc


def decrypt_many(tokens: list[str]) -> list[str]:
    """The plaintexts of many tokens at once: the same result as :func:`decrypt` on each, many
    times faster for short values (see :func:`decrypt_many_bytes`)."""
    plaintexts = decrypt_many_bytes([token.encode() for token in tokens])
    return [plaintext.decode() for plaintext in plaintexts]


_STANDARD_B64 = bytes.maketrans(b"-_", b"+/")
_ONE_BLOCK = 100  # characters of a Fernet token of one AES block: 73 bytes in base64


def decrypt_many_bytes(tokens: list[bytes]) -> list[bytes]:
    """:func:`decrypt_many` for tokens given as ASCII bytes, plaintexts returned as UTF-8 bytes
    (what a file writer wants).

    Tokens of one block (values of up to 15 bytes) of the newest key are decoded, checked and
    decrypted together: one base64 decode, one AES call, the HMACs compared at once. Any other
    token (an older key's, a longer value) takes the ordinary path; a damaged token raises
    ValueError either way."""
    count = len(tokens)
    plaintexts: list[bytes | None] = [None] * count
    if count and set(map(len, tokens)) == {_ONE_BLOCK}:
        plaintexts = _decrypt_one_block_tokens(b"".join(tokens), count)
        if None not in plaintexts:
            return plaintexts  # type: ignore[return-value]
    return [
        decrypt(token.decode()).encode() if plaintext is None else plaintext
        for token, plaintext in zip(tokens, plaintexts, strict=True)
    ]


def _decrypt_one_block_tokens(joined: bytes, count: int) -> list[bytes | None]:
    """The plaintexts of `count` one-block tokens given end to end; None where a token is not
    the newest key's (the caller decrypts those one by one)."""
    signing_key, encryption_key = _primary_keys()
    # Each token ends in "==": made "AA", the tokens decode in one call to 75 bytes each (the
    # token's 73: version, time, IV, one block, HMAC; then two spare bytes).
    text = bytearray(joined.translate(_STANDARD_B64))
    text[_ONE_BLOCK - 2 :: _ONE_BLOCK] = text[_ONE_BLOCK - 1 :: _ONE_BLOCK] = b"A" * count
    packed = binascii.a2b_base64(text)
    if len(packed) != 75 * count:
        return [None] * count
    starts = range(0, 75 * count, 75)
    signed = [packed[i : i + 41] for i in starts]  # version, time, IV, block: what the HMAC covers
    computed = b"".join(_hmac_sha256_many(signing_key, signed))
    stored = b"".join([packed[i + 41 : i + 73] for i in starts])
    # IV and block of each token end to end, decrypted in one AES call (the IVs too: cheaper
    # than gathering the blocks apart); token n's plaintext is then at [32n, 32n + 16).
    ivs_and_blocks = b"".join([head[9:] for head in signed])
    decryptor = Cipher(algorithms.AES(encryption_key), modes.ECB()).decryptor()
    decrypted = decryptor.update(ivs_and_blocks) + decryptor.finalize()
    plain = _xor(decrypted[16:], ivs_and_blocks[:-16])
    if hmac.compare_digest(computed, stored) and packed[::75] == b"\x80" * count:
        good = None  # every token is the newest key's
    else:
        good = [
            packed[i] == 0x80 and computed[32 * n : 32 * n + 32] == stored[32 * n : 32 * n + 32]
            for n, i in enumerate(starts)
        ]
    pad = plain[15]
    if (
        good is None
        and 1 <= pad <= 16
        and all(plain[k::32] == bytes((pad,)) * count for k in range(16 - pad, 16))
    ):  # values of one length, as in a generated batch: the padding is checked at once
        return [plain[i : i + 16 - pad] for i in range(0, 32 * count, 32)]
    values: list[bytes | None] = []
    for n in range(count):
        if good is not None and not good[n]:
            values.append(None)
            continue
        block = plain[32 * n : 32 * n + 16]
        pad = block[15]
        if not 1 <= pad <= 16 or block[16 - pad :] != _PADDING[pad]:
            raise ValueError("cannot decrypt: damaged value")
        values.append(block[: 16 - pad])
    return values


class EncryptedTextField(models.TextField):
    """Stores a Fernet token, hands out the plaintext."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)

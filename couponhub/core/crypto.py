"""Symmetric encryption for secrets kept at rest (API client secrets, pickup passwords).

Each value is sealed on its own with ``cryptography``'s AES-CCM (AES-128, 13-byte random nonce,
16-byte tag, no associated data) and written as hex: ``c1`` + nonce + ciphertext + tag. The AES
key of each entry of FIELD_ENCRYPTION_KEYS (newest first) is derived from it with HKDF-SHA256;
the newest key seals, every key opens, so a key is rotated by putting a new one first and running
``manage.py reencrypt_secrets``. Fernet tokens written before the AES-CCM format still open.
"""

import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver

PREFIX = "c1"  # the version byte, 0xC1, in hex
_NONCE = 13  # bytes; leaves 2 bytes (L = 2) for the length, so values up to 65,535 bytes
_TAG = 16


class UnreadableSecret(ValueError):
    """No configured key opens the token, or the token is damaged."""


@dataclass(frozen=True)
class _Keyring:
    ciphers: tuple[AESCCM, ...]  # newest first
    fernet: MultiFernet  # opens tokens written before the AES-CCM format


@cache
def _keyring() -> _Keyring:
    # One cipher object per key for the life of the process: building one costs more than
    # sealing a short value with it.
    keys = settings.FIELD_ENCRYPTION_KEYS
    ciphers = tuple(
        AESCCM(
            HKDF(
                algorithm=hashes.SHA256(), length=16, salt=None, info=b"couponhub field aes-ccm v1"
            ).derive(key.encode()),
            tag_length=_TAG,
        )
        for key in keys
    )
    return _Keyring(ciphers, MultiFernet([Fernet(key.encode()) for key in keys]))


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        _keyring.cache_clear()


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = _keyring().ciphers[0].encrypt(nonce, plaintext.encode(), None)
    return PREFIX + (nonce + sealed).hex()


def decrypt(token: str) -> str:
    plaintext, _key_index = _open(token)
    return plaintext


def reencrypt(token: str) -> str | None:
    """The value sealed under the newest key, or None when the token already is."""
    plaintext, key_index = _open(token)
    return None if key_index == 0 else encrypt(plaintext)


def _open(token: str) -> tuple[str, int | None]:
    """The plaintext and the index of the key that opened it (None for a Fernet token)."""
    keyring = _keyring()
    if not token.startswith(PREFIX):
        try:
            return keyring.fernet.decrypt(token.encode()).decode(), None
        except InvalidToken as exc:
            raise UnreadableSecret("no configured key opens this value") from exc
    try:
        raw = bytes.fromhex(token[len(PREFIX) :])
    except ValueError as exc:
        raise UnreadableSecret("damaged value: not hexadecimal") from exc
    nonce, sealed = raw[:_NONCE], raw[_NONCE:]
    for index, cipher in enumerate(keyring.ciphers):
        try:
            return cipher.decrypt(nonce, sealed, None).decode(), index
        except (InvalidTag, ValueError):
            continue
    raise UnreadableSecret("no configured key opens this value, or it is damaged")


class EncryptedTextField(models.TextField):
    """Stores a token, hands out the plaintext."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)

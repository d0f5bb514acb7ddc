import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from couponhub.core.crypto import UnreadableSecret, decrypt, encrypt, reencrypt

# Tokens written by the code before this format change (bulk AES-CCM and single-value AES-CCM,
# and Fernet tokens from before AES-CCM), under two fixed keys: A and B.
LEGACY = json.loads((Path(__file__).parent / "fixtures" / "legacy_tokens.json").read_text())
KEY_A, KEY_B = LEGACY["A"], LEGACY["B"]


def legacy_tokens(*kinds):
    return [pair for kind in kinds for pair in LEGACY["tokens"][kind]]


def test_a_token_is_standard_aes_ccm_under_the_hkdf_derived_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    key = HKDF(
        algorithm=hashes.SHA256(), length=16, salt=None, info=b"couponhub field aes-ccm v1"
    ).derive(KEY_A.encode())
    for value in ["", "20481736", "密码一", "q" * 400]:
        raw = bytes.fromhex(encrypt(value))
        assert raw[0] == 0xC1
        nonce, sealed = raw[1:14], raw[14:]
        assert AESCCM(key, tag_length=16).decrypt(nonce, sealed, None) == value.encode()


def test_equal_values_get_different_tokens():
    assert len({encrypt("same") for _ in range(50)}) == 50


@hypothesis_settings(max_examples=80, deadline=None)
@given(st.text(max_size=60))
def test_what_is_sealed_opens(value):
    assert decrypt(encrypt(value)) == value


@pytest.mark.parametrize("kind", ["c1_single", "c1_many", "fernet"])
def test_tokens_written_before_still_open_under_either_key_position(settings, kind):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    for value, token in legacy_tokens(f"{kind}_A", f"{kind}_B"):
        assert decrypt(token) == value


def test_reencrypt_moves_old_keys_and_fernet_tokens_to_the_newest_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A, KEY_B]
    for _value, token in legacy_tokens("c1_single_A", "c1_many_A"):
        assert reencrypt(token) is None  # already current
    for value, token in legacy_tokens("c1_single_B", "fernet_A", "fernet_B"):
        renewed = reencrypt(token)
        assert renewed.startswith("c1") and decrypt(renewed) == value
        settings.FIELD_ENCRYPTION_KEYS = [KEY_A]  # B retired: the renewed token still opens
        assert decrypt(renewed) == value
        settings.FIELD_ENCRYPTION_KEYS = [KEY_A, KEY_B]


def test_a_token_no_key_opens_is_refused_with_a_clear_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    for _value, token in legacy_tokens("c1_single_B", "fernet_B"):
        with pytest.raises(UnreadableSecret):
            decrypt(token)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(UnreadableSecret):
        reencrypt(legacy_tokens("c1_single_A")[0][1])


def test_damage_anywhere_in_a_token_is_refused(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    token = encrypt("12345678")
    for position in range(len(token)):
        digit = "0" if token[position] != "0" else "1"
        damaged = token[:position] + digit + token[position + 1 :]
        with pytest.raises(UnreadableSecret):
            decrypt(damaged)
    for damaged in (token[:-2], token + "00", token.upper(), "c1zz", "", "c1"):
        with pytest.raises(UnreadableSecret):
            decrypt(damaged)

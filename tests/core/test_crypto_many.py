import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from couponhub.core import crypto
from couponhub.core.crypto import decrypt, decrypt_many, decrypt_many_bytes, encrypt, encrypt_many

VALUES = ["", "1", "20481736", "密码一", "x" * 15, "y" * 16, "z" * 17, "q" * 40, 'a,"b"']


def test_encrypt_many_writes_standard_aes_ccm_that_decrypt_reads():
    values = VALUES + [f"{i:08d}" for i in range(500)]
    tokens = encrypt_many(values)
    assert [decrypt(t) for t in tokens] == values
    key = crypto._keyring().aes_keys[0]
    for value, token in zip(values, tokens, strict=True):
        raw = bytes.fromhex(token)
        assert raw[0] == crypto.VERSION
        nonce, sealed = raw[1:14], raw[14:]
        # the same bytes as the reference implementation, for this nonce
        assert AESCCM(key, tag_length=16).encrypt(nonce, value.encode(), None) == sealed
    # every token has its own nonce: equal values give different tokens
    assert len(set(encrypt_many(["same"] * 50))) == 50


def test_decrypt_many_reads_what_encrypt_and_encrypt_many_wrote():
    tokens = encrypt_many(VALUES) + [encrypt(v) for v in VALUES]
    assert decrypt_many(tokens) == VALUES + VALUES
    assert decrypt_many_bytes([t.encode() for t in tokens]) == [v.encode() for v in VALUES * 2]
    assert decrypt_many([]) == [] and encrypt_many([]) == []


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=30))
def test_many_and_one_at_a_time_agree(values):
    assert decrypt_many(encrypt_many(values)) == values
    assert [decrypt(t) for t in encrypt_many(values)] == values
    assert decrypt_many([encrypt(v) for v in values]) == values


def test_a_token_damaged_anywhere_is_refused_by_the_bulk_path():
    tokens = encrypt_many([f"{i:08d}" for i in range(20)])
    for position in range(2, len(tokens[7]), 3):
        digit = "0" if tokens[7][position] != "0" else "1"
        damaged = tokens[7][:position] + digit + tokens[7][position + 1 :]
        with pytest.raises(ValueError):
            decrypt_many([*tokens[:7], damaged, *tokens[8:]])
    assert decrypt_many(tokens) == [f"{i:08d}" for i in range(20)]


def test_tokens_of_a_retired_key_and_fernet_tokens_still_read(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    old_tokens = encrypt_many(["11112222", "33334444"])
    fernet_token = Fernet(old_key.encode()).encrypt(b"55556666").decode()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    new_tokens = encrypt_many(["77778888"])
    mixed = [old_tokens[0], *new_tokens, fernet_token, old_tokens[1]]
    expected = ["11112222", "77778888", "55556666", "33334444"]
    assert decrypt_many(mixed) == expected
    assert [decrypt(t) for t in mixed] == expected
    # a key that is gone leaves the value unreadable, with a clear error
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEY"):
        decrypt_many(new_tokens)


def test_the_bulk_path_reads_exactly_what_decrypt_reads():
    six, five = encrypt_many(["123456"])[0], encrypt_many(["12345"])[0]
    spaced = five[:2] + "  " + five[2:]
    # fromhex would skip the spaces: the bulk path must not lose step, and agree with decrypt
    assert decrypt_many([six, spaced]) == ["123456", decrypt(spaced)] == ["123456", "12345"]
    for shouted in ([six.upper()], [six, six.upper()]):
        with pytest.raises(ValueError):
            decrypt(shouted[-1])
        with pytest.raises(ValueError):
            decrypt_many(shouted)

from couponhub.core.crypto import decrypt, encrypt_many


def test_encrypt_many_makes_fernet_tokens_that_decrypt_back():
    values = ["20481736", "", "密码一", "x" * 15, "y" * 16, "z" * 40] + [
        f"{i:08d}" for i in range(500)
    ]
    tokens = encrypt_many(values)
    assert [decrypt(t) for t in tokens] == values
    # every token has its own IV: equal values give different tokens
    assert len(set(encrypt_many(["same"] * 50))) == 50


def test_decrypt_many_reads_what_encrypt_and_encrypt_many_wrote():
    from couponhub.core.crypto import encrypt

    values = ["20481736", "", "密码一", "x" * 15, "y" * 16, "z" * 40]
    tokens = encrypt_many(values) + [encrypt(v) for v in values]
    from couponhub.core.crypto import decrypt_many

    assert decrypt_many(tokens) == values + values


def test_decrypt_many_refuses_a_tampered_token():
    import base64

    from couponhub.core.crypto import decrypt_many

    token = encrypt_many(["12345678"])[0]
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[30] ^= 1
    import pytest

    with pytest.raises(ValueError):
        decrypt_many([base64.urlsafe_b64encode(bytes(raw)).decode()])


def test_the_shared_hmac_states_give_the_standard_hmac():
    import hmac
    import os

    from couponhub.core.crypto import _hmac_sha256_many

    key = os.urandom(16)
    messages = [os.urandom(n) for n in (0, 1, 41, 63, 64, 65, 200)]
    assert _hmac_sha256_many(key, messages) == [hmac.digest(key, m, "sha256") for m in messages]


def test_decrypt_many_reads_tokens_of_an_older_key_beside_new_ones(settings):
    from cryptography.fernet import Fernet

    from couponhub.core import crypto

    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    old_tokens = crypto.encrypt_many(["11112222", "33334444"])
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    crypto._fernet.cache_clear()
    try:
        new_tokens = crypto.encrypt_many(["55556666"])
        assert crypto.decrypt_many([old_tokens[0], *new_tokens, old_tokens[1]]) == [
            "11112222",
            "55556666",
            "33334444",
        ]
    finally:
        crypto._fernet.cache_clear()

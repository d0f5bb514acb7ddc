from couponhub.core.crypto import decrypt, encrypt_many


def test_encrypt_many_makes_fernet_tokens_that_decrypt_back():
    values = ["20481736", "", "密码一", "x" * 15, "y" * 16, "z" * 40] + [
        f"{i:08d}" for i in range(500)
    ]
    tokens = encrypt_many(values)
    assert [decrypt(t) for t in tokens] == values
    # every token has its own IV: equal values give different tokens
    assert len(set(encrypt_many(["same"] * 50))) == 50

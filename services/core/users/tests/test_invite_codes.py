import re

import pytest

from users.invite_codes import ALPHABET, LENGTH, PATTERN, InvalidInviteCode, invite_code_generate, invite_code_normalize


def test_alphabet_is_crockford_base32_without_look_alikes():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert set(ALPHABET) == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert not set("ILOU") & set(ALPHABET)


def test_generated_codes_are_six_alphabet_characters_and_vary():
    codes = {invite_code_generate() for _ in range(2000)}
    assert len(codes) > 1990  # 32**6 ≈ 1e9 possibilities: many repeats would mean a broken generator
    assert all(len(code) == LENGTH and re.fullmatch(PATTERN, code) for code in codes)
    assert set("".join(codes)) == set(ALPHABET)  # every character is used


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ABC123", "ABC123"),
        ("abc123", "ABC123"),
        (" abc 123 ", "ABC123"),
        ("abc-123", "ABC123"),
        ("A-B-C 1-2-3", "ABC123"),
        ("oOiIlL", "001111"),
        ("hjkmnp", "HJKMNP"),
    ],
)
def test_input_is_forgiving(raw, expected):
    assert invite_code_normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ABC12",
        "ABC1234",
        "ABCU12",
        "ABC_12",
        "ABC.12",
        "ÄBC123",
        "ABC12٣",
        "abcdß",
        "-" * 40,
        None,
        123456,
        ["ABC123"],
    ],
)
def test_anything_else_is_invalid_invite_code(raw):
    with pytest.raises(InvalidInviteCode) as caught:
        invite_code_normalize(raw)
    assert (caught.value.code, caught.value.status) == ("invalid_invite_code", 400)

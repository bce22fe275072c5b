import pytest

from common.errors import InvalidPhone
from common.phones import phone_normalize


@pytest.mark.parametrize(
    "raw",
    ["89991234567", "+7 (999) 123-45-67", "8-999-123-45-67", "9991234567", "+79991234567", " 8 999 123 45 67 "],
)
def test_every_common_format_is_one_number(raw):
    assert phone_normalize(raw) == "+79991234567"


def test_other_countries_keep_their_code():
    assert phone_normalize("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("raw", ["", "   ", "123", "abc", "+7999", "8999123456789012", "9" * 65, None, 89991234567, []])
def test_anything_else_is_invalid_phone(raw):
    with pytest.raises(InvalidPhone) as caught:
        phone_normalize(raw)
    assert caught.value.code == "invalid_phone"
    assert caught.value.status == 400


def test_default_region_comes_from_settings(settings):
    settings.PHONE_DEFAULT_REGION = "GB"
    assert phone_normalize("020 7946 0958") == "+442079460958"

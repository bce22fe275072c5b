import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from common.phones import phone_normalize, phone_sms_check
from svckit.phones import InvalidPhone, PhoneHasLetters, UnsupportedCountry, UnsupportedNumber
from svckit.settings import env_sms_policy


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


@pytest.mark.parametrize(
    "raw", ["+7 999 123 OO O1", "8 999 123 45 6O", "+7 999 123 ОО О1", "+1 800 FLOWERS", "+79991234567x12"]
)
def test_any_letter_is_invalid_phone_saying_letters_are_not_allowed(raw):
    # phonenumbers alone reads `+7 999 123 OO O1` as +79991236661 (keypad letters): a stranger.
    with pytest.raises(PhoneHasLetters) as caught:
        phone_normalize(raw)
    assert (caught.value.code, caught.value.status) == ("invalid_phone", 400)
    with translation.override("en"):  # a lazy message: whatever language an earlier test left active
        assert "Letters are not allowed" in str(caught.value.message)


def test_digits_of_any_script_are_digits():
    assert phone_normalize("٨٩٩٩١٢٣٤٥٦٧") == phone_normalize("８９９９１２３４５６７") == "+79991234567"


@pytest.mark.parametrize(
    ("phone", "number_type"),
    [
        ("+78091234567", "premium_rate"),
        ("+78001234567", "toll_free"),
        ("+74951234567", "fixed_line"),
        ("+449012345678", "premium_rate"),
        ("+445612345678", "voip"),
        ("+447640123456", "pager"),
        ("+33884012345", "shared_cost"),
    ],
)
def test_numbers_that_cannot_take_an_sms_are_unsupported_number(phone, number_type):
    with pytest.raises(UnsupportedNumber) as caught:
        phone_sms_check(phone=phone)
    assert (caught.value.code, caught.value.status) == ("unsupported_number", 400)
    assert caught.value.details == {"number_type": number_type}


@pytest.mark.parametrize("phone", ["+79991234567", "+12025550123", "+447400123456", "+77012345678"])
def test_mobile_numbers_of_any_country_are_accepted_by_default(phone):
    phone_sms_check(phone=phone)


def test_allowed_countries_refuse_the_rest_after_the_type(settings):
    settings.SMS_ALLOWED_COUNTRIES = frozenset({"RU"})
    phone_sms_check(phone="+79991234567")
    with pytest.raises(UnsupportedCountry) as caught:
        phone_sms_check(phone="+77012345678")  # Kazakhstan, +7 like Russia
    assert (caught.value.code, caught.value.details) == ("unsupported_country", {"country": "KZ"})
    with pytest.raises(UnsupportedNumber):  # a premium range is refused whatever its country
        phone_sms_check(phone="+449012345678")


@pytest.mark.parametrize(
    ("types", "countries"),
    [("mobile,satellite", ""), ("", ""), ("mobile", "RU,XX"), ("mobile", "Russia")],
)
def test_the_policy_settings_refuse_unknown_names_at_start_up(monkeypatch, types, countries):
    monkeypatch.setenv("SMS_ALLOWED_NUMBER_TYPES", types)
    monkeypatch.setenv("SMS_ALLOWED_COUNTRIES", countries)
    with pytest.raises(ImproperlyConfigured):
        env_sms_policy()


def test_the_policy_settings_read_names_in_any_case(monkeypatch):
    monkeypatch.setenv("SMS_ALLOWED_NUMBER_TYPES", "MOBILE, fixed_line_or_mobile")
    monkeypatch.setenv("SMS_ALLOWED_COUNTRIES", "ru,kz")
    assert env_sms_policy() == (frozenset({"mobile", "fixed_line_or_mobile"}), frozenset({"RU", "KZ"}))

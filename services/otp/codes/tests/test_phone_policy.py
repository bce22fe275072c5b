"""The number policy, checked again here whoever calls: letters, number types, countries; and
codes typed in any script's digits."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from svckit.settings import env_sms_policy

# (id, phone, status, code, details) for POST /v1/codes/ with the default settings.
SEND_CASES = [
    ("mobile", "+79991234567", 202, None, None),
    ("us-fixed-line-or-mobile", "+12025550123", 202, None, None),
    ("premium-rate", "+78091234567", 400, "unsupported_number", {"number_type": "premium_rate"}),
    ("toll-free", "+78001234567", 400, "unsupported_number", {"number_type": "toll_free"}),
    ("landline", "+74951234567", 400, "unsupported_number", {"number_type": "fixed_line"}),
    ("uk-premium-rate", "+449098790000", 400, "unsupported_number", {"number_type": "premium_rate"}),
    ("fr-shared-cost", "+33884012345", 400, "unsupported_number", {"number_type": "shared_cost"}),
    ("de-premium-rate", "+499001234567", 400, "unsupported_number", {"number_type": "premium_rate"}),
    ("uk-uan", "+445512345678", 400, "unsupported_number", {"number_type": "uan"}),
    ("uk-voip", "+445612345678", 400, "unsupported_number", {"number_type": "voip"}),
    ("uk-pager", "+447640123456", 400, "unsupported_number", {"number_type": "pager"}),
    ("uk-personal-number", "+447012345678", 400, "unsupported_number", {"number_type": "personal_number"}),
    ("letter-o-for-zero", "+7999123OO01", 400, "invalid_phone", {}),
]


@pytest.mark.parametrize(
    ("phone", "status", "code", "details"), [c[1:] for c in SEND_CASES], ids=[c[0] for c in SEND_CASES]
)
def test_send_applies_the_number_policy(api_client, phone, status, code, details):
    response = api_client.post("/v1/codes/", {"phone": phone}, format="json")
    assert response.status_code == status, response.content
    if code is not None:
        error = response.json()["error"]
        assert (error["code"], error["details"]) == (code, details)


def test_letters_are_refused_with_a_message_that_says_so(api_client):
    response = api_client.post("/v1/codes/", {"phone": "+7999123OO01"}, format="json")
    assert response.json()["error"]["message"] == "Letters are not allowed in a phone number."


def test_allowed_countries_refuse_the_others(api_client, settings):
    settings.SMS_ALLOWED_COUNTRIES = frozenset({"RU"})
    response = api_client.post("/v1/codes/", {"phone": "+77012345678"}, format="json")  # Kazakhstan shares +7
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_country"
    assert response.json()["error"]["details"] == {"country": "KZ"}
    assert api_client.post("/v1/codes/", {"phone": "+79991234560"}, format="json").status_code == 202


def test_allowed_types_are_a_setting(api_client, settings):
    settings.SMS_ALLOWED_NUMBER_TYPES = frozenset({"mobile", "fixed_line"})
    assert api_client.post("/v1/codes/", {"phone": "+74951234567"}, format="json").status_code == 202
    assert api_client.post("/v1/codes/", {"phone": "+12025550124"}, format="json").status_code == 400


@pytest.mark.parametrize("typed", ["٢٤٦٨", "２４６８", "२४६८"], ids=["arabic-indic", "fullwidth", "devanagari"])
def test_a_code_in_any_scripts_digits_is_the_code(api_client, phone, known_code, typed):
    known_code("2468")
    api_client.post("/v1/codes/", {"phone": phone}, format="json")
    response = api_client.post("/v1/codes/verify/", {"phone": phone, "code": typed}, format="json")
    assert response.status_code == 200 and response.json() == {"verified": True}


@pytest.mark.parametrize(
    ("app_env", "countries", "allowed"),
    [
        ("development", "", frozenset()),  # every country
        ("development", "*", frozenset()),
        ("production", "*", frozenset()),  # every country, on purpose
        ("production", "ru, kz", frozenset({"RU", "KZ"})),
    ],
)
def test_allowed_countries_read_at_start_up(monkeypatch, app_env, countries, allowed):
    monkeypatch.setenv("APP_ENV", app_env)
    monkeypatch.setenv("SMS_ALLOWED_COUNTRIES", countries)
    assert env_sms_policy()[1] == allowed


@pytest.mark.parametrize(
    ("app_env", "countries", "message"),
    [
        ("production", "", "SMS_ALLOWED_COUNTRIES must be set when APP_ENV=production"),
        ("production", " , ", "SMS_ALLOWED_COUNTRIES must be set when APP_ENV=production"),
        ("production", "RU,*", "SMS_ALLOWED_COUNTRIES must be ISO 3166 codes (e.g. RU,KZ) or * alone"),
        ("development", "*,KZ", "SMS_ALLOWED_COUNTRIES must be ISO 3166 codes (e.g. RU,KZ) or * alone"),
    ],
)
def test_allowed_countries_refused_at_start_up(monkeypatch, app_env, countries, message):
    monkeypatch.setenv("APP_ENV", app_env)
    monkeypatch.setenv("SMS_ALLOWED_COUNTRIES", countries)
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        env_sms_policy()

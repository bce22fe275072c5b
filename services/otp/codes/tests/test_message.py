"""The SMS text: one template per language, one segment in both encodings, the origin-bound last
line and the Android app hash, and the start-up refusal of a message that would not fit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codes.message import message_text, sms_encoding, sms_segments

SERVICE_DIR = Path(__file__).resolve().parents[2]
LONGEST_CODE = "0" * 8


@pytest.fixture
def autofill(settings):
    settings.SMS_ORIGIN_DOMAIN = "referrals.example.com"
    settings.SMS_ANDROID_APP_HASH = "FA+9qCX9VSu"
    return settings


def test_plain_messages_per_language(settings):
    settings.SMS_ORIGIN_DOMAIN = settings.SMS_ANDROID_APP_HASH = ""
    assert message_text(code="4821", language="en") == "Your sign-in code: 4821"
    assert message_text(code="4821", language="ru") == "Код для входа: 4821"
    assert message_text(code="4821", language="de") == "Your sign-in code: 4821"


def test_the_origin_bound_line_is_last_and_the_app_hash_before_it(autofill):
    assert message_text(code="4821", language="ru").split("\n") == [
        "Код для входа: 4821",
        "FA+9qCX9VSu",
        "@referrals.example.com #4821",
    ]


@pytest.mark.parametrize(("language", "encoding"), [("en", "gsm7"), ("ru", "ucs2")])
def test_both_languages_fit_one_segment_with_everything_on(autofill, language, encoding):
    text = message_text(code=LONGEST_CODE, language=language)
    assert sms_encoding(text) == encoding
    assert sms_segments(text) == 1


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),  # 2 × 153
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),  # 2 × 67
        ("ж" * 135, 3),
        ("a" * 69 + "😀", 2),  # an emoji is two UTF-16 units
        ("é" * 160, 1),  # in the GSM alphabet
        ("ê" * 70, 1),  # not in it: UCS-2
        ("ê" * 71, 2),
    ],
)
def test_segment_counts(text, segments):
    assert sms_segments(text) == segments


def _start(**env: str) -> subprocess.CompletedProcess:
    script = "import django; django.setup()"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SMS_", "OTP_LENGTH"))}
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=SERVICE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_message_longer_than_one_segment_refuses_to_start():
    result = _start(SMS_ORIGIN_DOMAIN="a-very-long-subdomain-name.referrals.example.com", OTP_LENGTH="8")
    assert result.returncode != 0
    assert "ImproperlyConfigured: the ru SMS takes 2 segments, not 1" in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMS_ORIGIN_DOMAIN": "https://example.com"}, "SMS_ORIGIN_DOMAIN must be a host name"),
        ({"SMS_ORIGIN_DOMAIN": "example.com/login"}, "SMS_ORIGIN_DOMAIN must be a host name"),
        ({"SMS_ANDROID_APP_HASH": "short"}, "SMS_ANDROID_APP_HASH must be the app's 11-character hash"),
    ],
)
def test_bad_autofill_settings_refuse_to_start(env, message):
    result = _start(**env)
    assert result.returncode != 0 and f"ImproperlyConfigured: {message}" in result.stderr


def test_a_short_domain_starts():
    assert _start(SMS_ORIGIN_DOMAIN="example.com", SMS_ANDROID_APP_HASH="FA+9qCX9VSu").returncode == 0

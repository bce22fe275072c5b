"""The SMS text: one template per language, short enough for one SMS segment, ending in the
origin-bound line that lets the phone offer the code by itself.

  Your sign-in code: 4821          (ru: Код для входа: 4821)
  FA+9qCX9VSu                      optional: SMS_ANDROID_APP_HASH, Android's SMS Retriever
  @example.com #4821               optional: SMS_ORIGIN_DOMAIN

Sources: the origin-bound one-time code format (WICG "sms-one-time-codes": the last line is
`@<host> #<code>`), read by Safari/iOS, Chrome's WebOTP API and Android; Android's SMS Retriever
API (the message contains the app's 11-character hash); segment sizes from 3GPP TS 23.038 (GSM 7-bit
default alphabet) and 23.040 (140 octets: 160 septets, or 70 UCS-2 characters)."""

from __future__ import annotations

from django.conf import settings

LANGUAGES = ("en", "ru")
TEMPLATES = {"en": "Your sign-in code: {code}", "ru": "Код для входа: {code}"}

# 3GPP TS 23.038 GSM 7-bit default alphabet, and its extension table (two septets each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_SINGLE, GSM7_PART = 160, 153  # septets: one segment; each part of a concatenated message
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units


def message_text(*, code: str, language: str) -> str:
    """The SMS for `code` in `language` ('en' or 'ru'; anything else falls back to 'en')."""
    lines = [TEMPLATES.get(language, TEMPLATES["en"]).format(code=code)]
    if settings.SMS_ANDROID_APP_HASH:
        lines.append(settings.SMS_ANDROID_APP_HASH)
    if settings.SMS_ORIGIN_DOMAIN:
        lines.append(f"@{settings.SMS_ORIGIN_DOMAIN} #{code}")
    return "\n".join(lines)


def sms_encoding(text: str) -> str:
    """'gsm7' when every character is in the GSM 7-bit alphabet (with its extension), else 'ucs2'."""
    return "gsm7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "ucs2"


def sms_segments(text: str) -> int:
    """How many SMS segments `text` takes (3GPP TS 23.040): GSM-7 fits 160 septets in one, 153 per
    part beyond; UCS-2 fits 70 UTF-16 units in one, 67 per part beyond."""
    if sms_encoding(text) == "gsm7":
        units, single, part = sum(2 if c in GSM7_EXTENSION else 1 for c in text), GSM7_SINGLE, GSM7_PART
    else:
        units, single, part = len(text.encode("utf-16-le")) // 2, UCS2_SINGLE, UCS2_PART
    return 1 if units <= single else -(-units // part)

"""Hostile input on every API endpoint, by hand: each answer is a JSON 4xx with its exact, stable
code (or the documented success for input that is odd but valid), never a 500."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Sequence
from typing import Any

import pytest
from rest_framework.test import APIClient

from users.tests.factories import UserFactory, client_for
from users.tokens import token_pair_issue

PHONE = "+79991234567"
ENDPOINTS = {
    "code": ("post", "/api/v1/auth/code/"),
    "token": ("post", "/api/v1/auth/token/"),
    "refresh": ("post", "/api/v1/auth/token/refresh/"),
    "logout": ("post", "/api/v1/auth/logout/"),
    "invite": ("post", "/api/v1/profile/invite/"),
    "profile": ("get", "/api/v1/profile/"),
    "referrals": ("get", "/api/v1/profile/referrals/"),
    "stats": ("get", "/api/v1/profile/stats/"),
}
POSTS = [name for name, (method, _) in ENDPOINTS.items() if method == "post"]
SIGNED_IN = {"invite", "profile", "referrals", "stats"}
JSON = "application/json"
OVER_LIMIT = 16 * 1024 + 1  # DATA_UPLOAD_MAX_MEMORY_SIZE is 16 kB
MISSING = object()
KB10 = 10 * 1024

# (id, raw body, content type, status, code) — the same on every endpoint that reads a JSON body.
BODIES = [
    ("not-json", b"{", JSON, 400, "malformed_request"),
    ("truncated", b'{"phone": "8999', JSON, 400, "malformed_request"),
    ("invalid-utf8", b"\xff\xfe\xfd", JSON, 400, "malformed_request"),
    ("utf8-bom", b"\xef\xbb\xbf{}", JSON, 400, "malformed_request"),
    ("whitespace-only", b"   ", JSON, 400, "malformed_request"),
    ("nan", b'{"phone": NaN, "code": NaN}', JSON, 400, "malformed_request"),
    ("lone-surrogate", b'{"phone": "\\ud800"', JSON, 400, "malformed_request"),
    ("deep-nesting", b"[" * 5000 + b"]" * 5000, JSON, 400, "malformed_request"),
    ("deep-object", b'{"a":' * 2000 + b"1" + b"}" * 2000, JSON, 400, "malformed_request"),
    ("odd-charset", b'{"phone": "+79991234567"}', "application/json; charset=rot13", 400, "malformed_request"),
    ("empty", b"", JSON, 400, "validation_error"),
    ("empty-object", b"{}", JSON, 400, "validation_error"),
    ("array", b"[]", JSON, 400, "validation_error"),
    (
        "array-of-the-object",
        json.dumps([{"phone": PHONE, "code": "1234", "refresh": "x", "invite_code": "7KQ2ZD"}]).encode(),
        JSON,
        400,
        "validation_error",
    ),
    ("null", b"null", JSON, 400, "validation_error"),
    ("string", b'"+79991234567"', JSON, 400, "validation_error"),
    ("number", b"79991234567", JSON, 400, "validation_error"),
    ("boolean", b"true", JSON, 400, "validation_error"),
    ("form", b"phone=%2B79991234567&code=1234", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ("multipart", b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
    ("text-plain", b'{"phone": "+79991234567"}', "text/plain", 415, "unsupported_media_type"),
    ("xml", b"<phone>+79991234567</phone>", "application/xml", 415, "unsupported_media_type"),
    ("json-lookalike-type", b'{"phone": "+79991234567"}', "application/problem+json", 415, "unsupported_media_type"),
    ("no-content-type", b'{"phone": "+79991234567"}', "", 415, "unsupported_media_type"),
    ("over-limit-json", json.dumps({"phone": "9" * OVER_LIMIT}).encode(), JSON, 413, "payload_too_large"),
    ("over-limit-junk", b"x" * OVER_LIMIT, JSON, 413, "payload_too_large"),
]

SQL = "' OR '1'='1'; DROP TABLE users_user; --"
HTML = "<script>alert(1)</script>"
# (id, value, status, code); a 2xx row is odd input the endpoint rightly accepts (code is then None).
PHONE_VALUES = [
    ("missing", MISSING, 400, "validation_error"),
    ("null", None, 400, "validation_error"),
    ("number", 89991234567, 400, "invalid_phone"),
    ("float", 8.9991234567e10, 400, "invalid_phone"),
    ("boolean", True, 400, "invalid_phone"),
    ("array", [PHONE], 400, "invalid_phone"),
    ("object", {"phone": PHONE}, 400, "invalid_phone"),
    ("empty", "", 400, "invalid_phone"),
    ("spaces", "   ", 400, "invalid_phone"),
    ("10kB-digits", "9" * KB10, 400, "invalid_phone"),
    ("65-chars", "8" * 65, 400, "invalid_phone"),
    ("emoji", "😀" * 11, 400, "invalid_phone"),
    ("emoji-inside", "+7 999 😀 123-45-67", 400, "invalid_phone"),
    ("sql", SQL, 400, "invalid_phone"),
    ("sql-after-a-number", "89991234567; DROP TABLE users_user", 400, "invalid_phone"),
    ("html", HTML, 400, "invalid_phone"),
    ("nul", "8999123\x004567", 400, "invalid_phone"),
    ("too-short", "12345", 400, "invalid_phone"),
    # Letters: phonenumbers reads them as keypad digits (O → 6), so these would text a stranger.
    ("letter-o-for-zero", "+7 999 123 OO O1", 400, "invalid_phone"),
    ("letter-o-for-zero-national", "8 999 123 45 6O", 400, "invalid_phone"),
    ("cyrillic-o-for-zero", "+7 999 123 ОО О1", 400, "invalid_phone"),
    ("fullwidth-letters", "+7 999 123 ＯＯ Ｏ1", 400, "invalid_phone"),
    ("vanity-number", "+1 800 FLOWERS", 400, "invalid_phone"),
    ("extension", "+7 999 123-45-67 ext. 12", 400, "invalid_phone"),
    ("one-letter-l-for-one", "+7 999 l23 45 67", 400, "invalid_phone"),
    ("leading-trailing-spaces", "  +7 (999) 123-45-67 \n", 200, None),
    ("fullwidth-digits", "８９９９１２３４５６７", 200, None),
    ("arabic-indic-digits", "٨٩٩٩١٢٣٤٥٦٧", 200, None),
]
CODE_VALUES = [
    ("missing", MISSING, 400, "validation_error"),
    ("null", None, 400, "validation_error"),
    ("number", 1234, 400, "validation_error"),
    ("boolean", False, 400, "validation_error"),
    ("array", ["1234"], 400, "validation_error"),
    ("empty", "", 400, "validation_error"),
    ("spaces", "    ", 400, "validation_error"),
    ("17-chars", "1" * 17, 400, "validation_error"),
    ("10kB", "1" * KB10, 400, "validation_error"),
    ("nul", "12\x0034", 400, "validation_error"),
    # Short junk is the OTP service's to judge (it answers invalid_code, and counts the guess).
    ("sql", "' OR 1=1 --", 400, "invalid_code"),
    ("html", "<b>1</b>", 400, "invalid_code"),
    ("emoji", "😀😀😀😀", 400, "invalid_code"),
    ("leading-trailing-spaces", " 1234 ", 400, "invalid_code"),
    ("arabic-indic-digits", "١٢٣٤", 400, "invalid_code"),
    ("fullwidth-digits", "１２３４", 400, "invalid_code"),
    ("superscript-digits", "¹²³⁴", 400, "invalid_code"),
]
# Only a code request applies the number policy (SMS_ALLOWED_NUMBER_TYPES, default mobile and
# fixed_line_or_mobile): premium and shared-cost ranges are how SMS pumping earns money.
SMS_PHONE_VALUES = [
    ("premium-rate", "+7 809 123-45-67", 400, "unsupported_number"),
    ("toll-free", "8 800 123-45-67", 400, "unsupported_number"),
    ("landline", "+7 495 123-45-67", 400, "unsupported_number"),
    ("uk-premium-rate", "+44 909 879 0000", 400, "unsupported_number"),
    ("de-premium-rate", "+49 900 1234567", 400, "unsupported_number"),
    ("fr-shared-cost", "+33 8 84 01 23 45", 400, "unsupported_number"),
    ("uk-voip", "+44 56 1234 5678", 400, "unsupported_number"),
    ("uk-pager", "+44 7640 123456", 400, "unsupported_number"),
    ("uk-personal-number", "+44 70 1234 5678", 400, "unsupported_number"),
]
REFRESH_VALUES = [
    ("missing", MISSING, 400, "validation_error"),
    ("null", None, 400, "validation_error"),
    ("number", 42, 400, "validation_error"),
    ("object", {"refresh": "x"}, 400, "validation_error"),
    ("empty", "", 400, "validation_error"),
    ("1025-chars", "a" * 1025, 400, "validation_error"),
    ("10kB", "a" * KB10, 400, "validation_error"),
    ("nul", "a.b\x00.c", 400, "validation_error"),
    ("sql", SQL, 401, "invalid_token"),
    ("html", HTML, 401, "invalid_token"),
    ("emoji", "😀.😀.😀", 401, "invalid_token"),
    ("jwt-shaped", "a.b.c", 401, "invalid_token"),
    ("number-as-string", "1234", 401, "invalid_token"),
    ("real-token-with-spaces", "a real refresh token, padded", 200, None),
]
INVITE_VALUES = [
    ("missing", MISSING, 400, "validation_error"),
    ("null", None, 400, "validation_error"),
    ("number", 123456, 400, "invalid_invite_code"),
    ("boolean", True, 400, "invalid_invite_code"),
    ("array", ["7KQ2ZD"], 400, "invalid_invite_code"),
    ("object", {"invite_code": "7KQ2ZD"}, 400, "invalid_invite_code"),
    ("empty", "", 400, "invalid_invite_code"),
    ("spaces", "      ", 400, "invalid_invite_code"),
    ("33-chars", "A" * 33, 400, "invalid_invite_code"),
    ("10kB", "A" * KB10, 400, "invalid_invite_code"),
    ("emoji", "😀" * 6, 400, "invalid_invite_code"),
    ("fullwidth", "７ＫＱ２ＺＤ", 400, "invalid_invite_code"),
    ("sql", SQL, 400, "invalid_invite_code"),
    ("html", HTML, 400, "invalid_invite_code"),
    ("nul", "7KQ\x002ZD", 400, "invalid_invite_code"),
    ("unknown", "ZZZZZZ", 404, "invite_code_not_found"),
    ("leading-trailing-spaces-lower-case", " 7kq2-zd ", 200, None),
]
FIELDS: list[tuple[str, str, dict[str, str], Sequence[tuple[str, Any, int, str | None]], int]] = [
    ("code", "phone", {}, PHONE_VALUES + SMS_PHONE_VALUES, 202),
    ("token", "phone", {"code": "1234"}, PHONE_VALUES, 200),
    ("token", "code", {"phone": PHONE}, CODE_VALUES, 200),
    ("refresh", "refresh", {}, REFRESH_VALUES, 200),
    ("logout", "refresh", {}, REFRESH_VALUES, 204),
    ("invite", "invite_code", {}, INVITE_VALUES, 200),
]


def _cursor(raw: str) -> str:
    return "cursor=" + base64.urlsafe_b64encode(raw.encode()).decode()


# (id, query string, status, code)
REFERRALS_QUERIES = [
    ("empty-cursor", "cursor=", 200, None),
    ("empty-limit", "limit=", 400, "validation_error"),
    ("limit-word", "limit=abc", 400, "validation_error"),
    ("limit-float", "limit=1.5", 400, "validation_error"),
    ("limit-exponent", "limit=1e2", 400, "validation_error"),
    ("limit-zero", "limit=0", 400, "validation_error"),
    ("limit-negative", "limit=-1", 400, "validation_error"),
    ("limit-over-max", "limit=101", 400, "validation_error"),
    ("limit-huge", "limit=" + "9" * 30, 400, "validation_error"),
    ("limit-10kB", "limit=" + "9" * KB10, 400, "validation_error"),
    ("limit-sql", "limit=1%20OR%201%3D1", 400, "validation_error"),
    ("limit-with-spaces", "limit=%205%20", 200, None),
    ("cursor-sql", "cursor=%27%20OR%201%3D1%20--", 400, "invalid_cursor"),
    ("cursor-html", "cursor=%3Cscript%3E", 400, "invalid_cursor"),
    ("cursor-emoji", "cursor=%F0%9F%98%80", 400, "invalid_cursor"),
    ("cursor-nul", "cursor=%00", 400, "invalid_cursor"),
    ("cursor-bad-utf8", "cursor=%FF%FE", 400, "invalid_cursor"),
    ("cursor-257-chars", "cursor=" + "A" * 257, 400, "invalid_cursor"),
    ("cursor-10kB", "cursor=" + "A" * KB10, 400, "invalid_cursor"),
    ("cursor-null", "cursor=null", 400, "invalid_cursor"),
    ("cursor-naive-time", _cursor("2026-01-01T00:00:00|1"), 400, "invalid_cursor"),
    ("cursor-three-parts", _cursor("2026-01-01T00:00:00+00:00|1|2"), 400, "invalid_cursor"),
    # fromisoformat takes offsets up to ±23:59, PostgreSQL only ±15:59: these two were 500s.
    ("cursor-offset-past-postgres", _cursor("2026-01-01T00:00:00-23:59|1"), 200, None),
    ("cursor-time-overflows-in-utc", _cursor("9999-12-31T23:59:59-23:59|1"), 400, "invalid_cursor"),
    ("cursor-huge-id", _cursor("2026-01-01T00:00:00+00:00|" + "9" * 30), 200, None),
    ("unknown-parameters", "x=1&limit=5&%F0%9F%98%80=%00", 200, None),
]


@pytest.fixture
def clients(db, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "100000/min"
    settings.THROTTLE_INVITE_PER_USER = "100000/min"
    UserFactory(invite_code="7KQ2ZD")  # the owner of the one valid invite code below
    return {"anonymous": APIClient(), "signed_in": client_for(UserFactory())}


def _client(clients, name: str) -> APIClient:
    return clients["signed_in" if name in SIGNED_IN else "anonymous"]


def _assert_error(response, status: int, code: str) -> dict:
    assert (response.status_code, response["Content-Type"]) == (status, "application/json"), response.content[:300]
    error = json.loads(response.content)["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error


@pytest.mark.parametrize("name", POSTS)
@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"), [case[1:] for case in BODIES], ids=[c[0] for c in BODIES]
)
def test_hostile_bodies(clients, name, body, content_type, status, code):
    response = _client(clients, name).generic("POST", ENDPOINTS[name][1], body, content_type=content_type)
    _assert_error(response, status, code)


def _field_cases():
    for name, field, base, values, ok in FIELDS:
        for case_id, value, status, code in values:
            yield pytest.param(
                name, field, base, value, ok if status == 200 else status, code, id=f"{name}-{field}-{case_id}"
            )


@pytest.mark.parametrize(("name", "field", "base", "value", "status", "code"), list(_field_cases()))
def test_hostile_field_values(clients, fake_otp, name, field, base, value, status, code):
    body = dict(base)
    if field == "refresh" and code is None:
        value = f"  {token_pair_issue(user=UserFactory()).refresh}\n"  # trimmed like every string field
    if value is not MISSING:
        body[field] = value
    if field == "code":
        fake_otp.answer("/v1/codes/verify/", 400, {"error": {"code": "invalid_code", "details": {"attempts_left": 4}}})
    response = _client(clients, name).post(ENDPOINTS[name][1], body, format="json")
    if code is None:
        assert response.status_code == status, response.content[:300]
        if name in {"code", "token"}:
            assert (response.json().get("phone") or response.json()["profile"]["phone"]) == PHONE
        return
    error = _assert_error(response, status, code)
    if code == "invalid_code":
        assert error["details"] == {"attempts_left": 4}


def test_a_code_reaches_the_otp_service_trimmed_with_ascii_digits_and_untouched_otherwise(clients, fake_otp):
    cases = [
        (" 1234 ", "1234"),
        ("' OR 1=1 --", "' OR 1=1 --"),
        ("😀😀😀😀", "😀😀😀😀"),
        # Digits of any script, by the phone field's rule (svckit.phones.ascii_digits).
        ("١٢٣٤", "1234"),
        ("۱۲۳۴", "1234"),
        ("１２３４", "1234"),
        ("१२३४", "1234"),
        ("¹²³⁴", "¹²³⁴"),  # not decimal digits (Unicode No): passed on, a wrong code
    ]
    for typed, sent in cases:
        clients["anonymous"].post(ENDPOINTS["token"][1], {"phone": PHONE, "code": typed}, format="json")
        assert fake_otp.json_bodies("/v1/codes/verify/")[-1] == {"phone": PHONE, "code": sent}


@pytest.mark.parametrize(
    ("query", "status", "code"), [c[1:] for c in REFERRALS_QUERIES], ids=[c[0] for c in REFERRALS_QUERIES]
)
def test_hostile_referrals_queries(clients, query, status, code):
    response = clients["signed_in"].get(f"{ENDPOINTS['referrals'][1]}?{query}")
    if code is None:
        assert response.status_code == status and set(response.json()) == {"results", "next"}
        return
    _assert_error(response, status, code)


# (id, query string, status, code)
STATS_QUERIES = [
    ("empty-tz", "tz=", 200, None),
    ("iana", "tz=America%2FArgentina%2FBuenos_Aires", 200, None),
    ("lower-case", "tz=europe%2Fmoscow", 400, "invalid_timezone"),
    ("offset", "tz=%2B03%3A00", 400, "invalid_timezone"),
    ("path", "tz=..%2F..%2F..%2Fetc%2Fpasswd", 400, "invalid_timezone"),
    ("absolute-path", "tz=%2Fusr%2Fshare%2Fzoneinfo%2FUTC", 400, "invalid_timezone"),
    ("nul", "tz=UTC%00", 400, "invalid_timezone"),
    ("bad-utf8", "tz=%FF%FE", 400, "invalid_timezone"),
    ("emoji", "tz=%F0%9F%98%80", 400, "invalid_timezone"),
    ("10kB", "tz=" + "A" * KB10, 400, "invalid_timezone"),
    ("sql", "tz=UTC%27%20OR%201%3D1%20--", 400, "invalid_timezone"),
    ("repeated", "tz=Mars&tz=Europe%2FMoscow", 200, None),  # the last one counts, as for every query
    ("unknown-parameters", "x=1&%F0%9F%98%80=%00", 200, None),
]


@pytest.mark.parametrize(("query", "status", "code"), [c[1:] for c in STATS_QUERIES], ids=[c[0] for c in STATS_QUERIES])
def test_hostile_stats_queries(clients, query, status, code):
    response = clients["signed_in"].get(f"{ENDPOINTS['stats'][1]}?{query}")
    if code is None:
        assert response.status_code == status and set(response.json()) == {"tz", "referrals_by_day"}
        return
    _assert_error(response, status, code)


@pytest.mark.parametrize("name", ["profile", "referrals", "stats"])
@pytest.mark.parametrize("body", [b"{", b"x" * OVER_LIMIT, b"[]"], ids=["not-json", "over-limit", "array"])
def test_get_endpoints_ignore_any_body(clients, name, body):
    response = clients["signed_in"].generic("GET", ENDPOINTS[name][1], body, content_type=JSON)
    assert response.status_code == 200


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_wrong_methods_are_405(clients, name):
    method, url = ENDPOINTS[name]
    for wrong in {"get", "post", "put", "patch", "delete"} - {method}:
        _assert_error(getattr(_client(clients, name), wrong)(url, {}, format="json"), 405, "method_not_allowed")


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_only_json_answers_are_offered(clients, name):
    method, url = ENDPOINTS[name]
    response = getattr(_client(clients, name), method)(url, HTTP_ACCEPT="application/xml")
    _assert_error(response, 406, "not_acceptable")


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/nope", "/api/v1/auth/code/extra/", "/api/v1/profile/%00/"])
def test_unknown_api_paths_are_json_404(client, db, path):
    _assert_error(client.get(path), 404, "not_found")


@pytest.mark.parametrize("name", POSTS)
def test_random_json_objects_never_fail(clients, name):
    """A seeded sweep of field combinations the tables above do not list one by one."""
    values: list[Any] = [None, True, 0, -1, 1e308, 10**30, "", " ", "\u202e", "😀" * 10, "a" * 5000, [], {}]
    values += [PHONE, "1234"]
    rng = random.Random(name)
    for _ in range(60):
        fields = rng.sample(["phone", "code", "refresh", "invite_code"], rng.randint(0, 4))
        response = _client(clients, name).post(
            ENDPOINTS[name][1], {f: rng.choice(values) for f in fields}, format="json"
        )
        assert response.status_code < 500, response.content[:300]
        if response.status_code >= 400:
            assert json.loads(response.content)["error"]["code"]

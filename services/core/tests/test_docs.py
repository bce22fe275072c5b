"""Swagger, ReDoc and the schema: every endpoint with its bodies, the Bearer scheme, each error code."""

import json

import pytest

ENDPOINTS = {
    ("/api/v1/auth/code/", "post"): {"202", "400", "429", "503"},
    ("/api/v1/auth/token/", "post"): {"200", "400", "403", "429", "503"},
    ("/api/v1/auth/token/refresh/", "post"): {"200", "400", "401", "503"},
    ("/api/v1/auth/logout/", "post"): {"204", "400", "401", "503"},
    ("/api/v1/profile/", "get"): {"200", "401", "503"},
    ("/api/v1/profile/stats/", "get"): {"200", "400", "401", "503"},
    ("/api/v1/profile/referrals/", "get"): {"200", "400", "401", "503"},
    ("/api/v1/profile/invite/", "post"): {"200", "400", "401", "404", "409", "429", "503"},
    ("/api/v1/profile/invite-qr.svg", "get"): {"200", "401", "503"},
    ("/api/v1/profile/referrals.csv", "get"): {"200", "401", "503"},
}
ERROR_CODES = [
    "invalid_phone",
    "too_many_requests",
    "otp_unavailable",
    "invalid_code",
    "too_many_attempts",
    "invalid_token",
    "not_authenticated",
    "invalid_invite_code",
    "invite_code_not_found",
    "own_invite_code",
    "referral_cycle",
    "invite_already_activated",
    "invalid_cursor",
    "invalid_timezone",
    "validation_error",
    "malformed_request",
    "database_unavailable",
    "payload_too_large",
    "unsupported_media_type",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def test_every_endpoint_is_documented_with_its_answers(schema):
    for (path, method), statuses in ENDPOINTS.items():
        operation = schema["paths"][path.removeprefix(schema["basePath"])][method]
        assert statuses <= set(operation["responses"]), (path, method)
        if method == "post":
            assert any(p["in"] == "body" for p in operation["parameters"]), path


def test_every_error_code_is_documented(schema):
    text = json.dumps(schema)
    for code in ERROR_CODES:
        assert f'"{code}"' in text or f"{code}," in text or f"{code}." in text, code


def test_the_bearer_scheme_is_declared_and_public_endpoints_need_none(schema):
    assert schema["securityDefinitions"]["Bearer"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Bearer <access token>` from POST /api/v1/auth/token/",
    }
    assert schema["basePath"] == "/api/v1"
    assert schema["security"] == [{"Bearer": []}]
    for path in ("/auth/code/", "/auth/token/", "/auth/token/refresh/", "/auth/logout/"):
        assert schema["paths"][path]["post"]["security"] == []
    assert "security" not in schema["paths"]["/profile/"]["get"]


def test_429_answers_document_retry_after(schema):
    answer = schema["paths"]["/auth/code/"]["post"]["responses"]["429"]
    assert "Retry-After" in answer["headers"]


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_render(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert b"<html" in response.content.lower()


@pytest.mark.django_db
def test_static_files_are_served_by_the_app_itself(client):
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_the_qr_code_is_documented_as_an_svg_image(schema):
    operation = schema["paths"]["/profile/invite-qr.svg"]["get"]
    assert "image/svg+xml" in operation["produces"]
    assert operation["responses"]["200"]["schema"] == {"type": "file"}
    assert "invite_url" in schema["definitions"]["Profile"]["properties"]


def test_the_sign_in_documents_the_invite_it_carries(schema):
    operation = schema["paths"]["/auth/token/"]["post"]
    body = next(p for p in operation["parameters"] if p["in"] == "body")["schema"]
    request = schema["definitions"][body["$ref"].rsplit("/", 1)[1]]
    assert "invite_code" in request["properties"] and "invite_code" not in request.get("required", [])
    answer = schema["definitions"]["SignIn"]["properties"]
    assert {"invite_applied", "invite_error"} <= set(answer)
    assert "not_new_account" in answer["invite_error"]["description"]


def test_the_code_request_documents_accept_language_as_the_sms_language(schema):
    parameters = schema["paths"]["/auth/code/"]["post"]["parameters"]
    (header,) = [p for p in parameters if p["in"] == "header"]
    assert header["name"] == "Accept-Language" and header["required"] is False
    assert "SMS" in header["description"]


def test_the_profile_lists_are_documented_item_by_item_and_always_present(schema):
    profile = schema["definitions"]["Profile"]
    assert profile["properties"]["referrals"]["items"]["type"] == "string"
    assert "referrals" in profile["required"]
    assert "referrals_by_day" not in profile["properties"]


def test_the_stats_document_the_time_zone_and_the_days(schema):
    operation = schema["paths"]["/profile/stats/"]["get"]
    (tz,) = [p for p in operation["parameters"] if p["in"] == "query"]
    assert (tz["name"], tz["type"], tz.get("required", False)) == ("tz", "string", False)
    assert "IANA" in tz["description"]
    assert "invalid_timezone" in operation["responses"]["400"]["description"]
    answer = schema["definitions"]["ReferralStats"]
    assert answer["properties"]["referrals_by_day"]["items"] == {"$ref": "#/definitions/DayCount"}
    assert set(schema["definitions"]["DayCount"]["properties"]) == {"date", "count"}
    assert {"tz", "referrals_by_day"} <= set(answer["required"])

"""End to end through the real OTP service and its Celery worker, started here from the stack's
declaration with the dev SMS inbox and private Redis key prefixes: two people sign in with the
codes they receive, one activates the other's invite code, and the referral shows in the profile."""

from __future__ import annotations

import pytest
from devstack import Stack, inbox
from devstack.fixtures import FAST_SMS, stack_config

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture(scope="module")
def otp(tmp_path_factory):
    """The OTP web process and worker, sharing this run's Redis under keys no one else uses."""
    logs = tmp_path_factory.mktemp("stack")
    with Stack(stack_config("core", otp_env=FAST_SMS), ["otp-web", "otp-worker"], logs=logs) as stack:
        yield stack.config


@pytest.fixture
def core_uses_otp(otp, settings):
    settings.OTP_SERVICE_URL = otp.otp_url
    settings.OTP_SERVICE_TOKEN = otp.token
    return otp.otp_url


def _sign_in(api, otp, typed_phone: str) -> dict:
    sent = api.post("/api/v1/auth/code/", {"phone": typed_phone}, format="json")
    assert sent.status_code == 202, sent.content
    code = inbox.code(otp, sent.json()["phone"])
    wrong = "0000" if code != "0000" else "1111"
    refused = api.post("/api/v1/auth/token/", {"phone": typed_phone, "code": wrong}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_code"
    assert refused.json()["error"]["details"]["attempts_left"] >= 1
    signed_in = api.post("/api/v1/auth/token/", {"phone": typed_phone, "code": code}, format="json")
    assert signed_in.status_code == 200, signed_in.content
    return signed_in.json()


def test_two_people_sign_in_and_one_invites_the_other(api, core_uses_otp):
    anna = _sign_in(api, core_uses_otp, "8 (999) 000-11-22")
    boris = _sign_in(api, core_uses_otp, "+7 999 000-33-44")
    assert anna["is_new_user"] and boris["is_new_user"]

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {boris['access']}")
    activated = api.post("/api/v1/profile/invite/", {"invite_code": anna["profile"]["invite_code"]}, format="json")
    assert activated.status_code == 200, activated.content
    assert activated.json()["activated_invite_code"] == anna["profile"]["invite_code"]

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {anna['access']}")
    profile = api.get("/api/v1/profile/").json()
    assert profile["referrals"] == ["+79990003344"]
    assert profile["referrals_count"] == 1


def test_a_code_is_good_once_and_a_resend_waits_for_the_cooldown(api, core_uses_otp):
    first = _sign_in(api, core_uses_otp, "89990005566")
    assert first["is_new_user"]
    again = api.post("/api/v1/auth/code/", {"phone": "89990005566"}, format="json")
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(again["Retry-After"]) <= 60


def test_a_wrong_service_token_is_otp_unavailable(api, core_uses_otp, settings):
    settings.OTP_SERVICE_TOKEN = "not-the-token"
    response = api.post("/api/v1/auth/code/", {"phone": "89990007788"}, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "otp_unavailable"


def test_the_core_sees_the_otp_service_up_in_its_metrics(client, core_uses_otp):
    assert client.get("/readyz").json()["checks"] == {"database": "ok"}
    assert 'core_dependency_up{dependency="otp"} 1.0' in client.get("/metrics").content.decode()


def test_with_six_digit_codes_the_web_pages_sign_people_in(client, settings, start_stack):
    """OTP_LENGTH is one setting both services read: the OTP service texts 6-digit codes and the
    sign-in page asks for 6 digits and takes them."""
    six = start_stack(stack_config("core", otp_env={**FAST_SMS, "OTP_LENGTH": "6"}), "otp-web", "otp-worker").config
    settings.OTP_SERVICE_URL, settings.OTP_SERVICE_TOKEN, settings.OTP_LENGTH = six.otp_url, six.token, 6
    assert client.post("/login/", {"phone": "+7 999 000-55-66"})["Location"] == "/login/code/"
    code = inbox.code(six.otp_url, "+79990005566")
    assert len(code) == 6
    page = client.get("/login/code/").content.decode()
    assert 'maxlength="6"' in page and "The code is 6 digits." not in page
    assert "The code is 6 digits." in client.post("/login/code/", {"code": code[:4]}).content.decode()
    signed_in = client.post("/login/code/", {"code": code})
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/profile/")
    assert client.get("/profile/").status_code == 200

"""The OTP service down, slow or failing, with the default client timeouts: signing in answers 503
`otp_unavailable` within them (about 3 s), and what does not need the OTP service keeps working."""

import socket
import time

import pytest

from users.tests.factories import UserFactory

CODE_URL = "/api/v1/auth/code/"
TOKEN_URL = "/api/v1/auth/token/"
CLIENT_TIMEOUT = 3.0  # OTP_CONNECT_TIMEOUT + OTP_READ_TIMEOUT, the defaults


def _nothing_listening(settings, fake_otp) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.OTP_SERVICE_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"


def _too_slow(settings, fake_otp) -> None:
    # Answers, but long after the read timeout: a hung worker or a stalled network.
    for path in ("/v1/codes/", "/v1/codes/verify/"):
        fake_otp.answer(path, 200, {"verified": True, "expires_in": 300, "resend_in": 60}, delay=6)


def _failing(settings, fake_otp) -> None:
    for path in ("/v1/codes/", "/v1/codes/verify/"):
        fake_otp.answer(path, 503, {"error": {"code": "unavailable", "message": "Redis is down", "details": {}}})


@pytest.mark.django_db
@pytest.mark.parametrize("outage", [_nothing_listening, _too_slow, _failing], ids=["down", "slow", "failing"])
def test_sign_in_is_otp_unavailable_in_time_and_profile_and_invites_keep_working(
    api, user, user_api, fake_otp, settings, outage
):
    assert settings.OTP_CONNECT_TIMEOUT + settings.OTP_READ_TIMEOUT == CLIENT_TIMEOUT
    outage(settings, fake_otp)

    for path, body in ((CODE_URL, {"phone": "89991234567"}), (TOKEN_URL, {"phone": "89991234567", "code": "1234"})):
        started = time.monotonic()
        response = api.post(path, body, format="json")
        assert time.monotonic() - started < CLIENT_TIMEOUT + 0.5
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "otp_unavailable"

    assert user_api.get("/api/v1/profile/").status_code == 200
    inviter = UserFactory()
    activated = user_api.post("/api/v1/profile/invite/", {"invite_code": inviter.invite_code}, format="json")
    assert activated.status_code == 200
    assert activated.json()["activated_invite_code"] == inviter.invite_code
    assert user_api.get("/api/v1/profile/referrals/").status_code == 200

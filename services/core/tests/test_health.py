import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_always_ok(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_checks_the_database_and_the_otp_service(client, fake_otp):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "otp": "ok"}}


def test_readyz_names_what_is_down(client, fake_otp):
    fake_otp.answer("/readyz", 503, {"error": {"code": "unavailable"}})
    response = client.get("/readyz")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert error["details"] == {"database": "ok", "otp": "unavailable"}
    assert "otp" in error["message"]


def test_readyz_reports_a_database_that_does_not_answer(client, fake_otp, monkeypatch):
    monkeypatch.setattr("config.health.database_ready", lambda: False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["details"]["database"] == "unavailable"

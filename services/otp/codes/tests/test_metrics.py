"""The service counts what it does in codes.metrics: each business outcome moves its own series."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from codes import services
from codes.errors import InvalidCode, TooManyAttempts, TooManyRequests
from codes.sealing import seal
from codes.tasks import deliver_sms


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def counts():
    """Snapshot of the series; call it again to get the increase since the snapshot."""
    series = [
        ("otp_codes_sent_total", {}),
        ("otp_sms_queued_total", {}),
        ("otp_codes_verified_total", {}),
        ("otp_codes_failed_total", {"reason": "invalid_code"}),
        ("otp_codes_failed_total", {"reason": "too_many_attempts"}),
        ("otp_codes_failed_total", {"reason": "too_many_requests"}),
        ("otp_sms_delivered_total", {"backend": "inbox"}),
        ("otp_sms_failed_total", {"reason": "code_expired"}),
        ("otp_sms_refused_total", {"reason": "forged"}),
        ("otp_sms_delivery_lag_seconds_count", {}),
        ("otp_sms_delivery_lag_seconds_sum", {}),
    ]
    before = {(n, tuple(sorted(lbl.items()))): _value(n, **lbl) for n, lbl in series}

    def increase() -> dict[str, float]:
        out = {}
        for (name, labels), value in before.items():
            key = name + "".join(f"[{v}]" for _, v in labels)
            out[key] = round(_value(name, **dict(labels)) - value, 6)
        return out

    return increase


def test_send_verify_and_failures_are_counted(settings, counts, phone, known_code):
    settings.OTP_MAX_ATTEMPTS = 2
    settings.OTP_RESEND_COOLDOWN_SECONDS = 60
    known_code("1111")
    known_code("1112")
    services.otp_send(phone=phone)
    with pytest.raises(TooManyRequests):
        services.otp_send(phone=phone)
    for _ in range(settings.OTP_MAX_ATTEMPTS):
        with pytest.raises(InvalidCode):
            services.otp_verify(phone=phone, code="0000")
    with pytest.raises(TooManyAttempts):
        services.otp_verify(phone=phone, code="0000")
    delta = counts()
    assert delta["otp_codes_sent_total"] == 1 and delta["otp_sms_queued_total"] == 1
    assert delta["otp_codes_failed_total[too_many_requests]"] == 1
    assert delta["otp_codes_failed_total[invalid_code]"] == 2
    assert delta["otp_codes_failed_total[too_many_attempts]"] == 1
    assert delta["otp_codes_verified_total"] == 0


def test_a_right_code_counts_as_verified(counts, phone, known_code):
    known_code("2222")
    services.otp_send(phone=phone)
    services.otp_verify(phone=phone, code="2222")
    assert counts()["otp_codes_verified_total"] == 1


def test_delivery_counts_once_with_its_lag(inbox_backend, counts, phone):
    kwargs = {
        "message_id": "metrics-" + phone,
        "phone": phone,
        "sealed_code": seal(message_id="metrics-" + phone, phone=phone, code="3333"),
        "requested_at": "2026-01-01T00:00:00+00:00",
    }
    assert deliver_sms.apply(kwargs=kwargs).get() is True
    assert deliver_sms.apply(kwargs=kwargs).get() is False  # a redelivery is not a second SMS
    assert deliver_sms.apply(kwargs={**kwargs, "message_id": "x" + phone, "sealed_code": "junk"}).get() is False
    delta = counts()
    assert delta["otp_sms_delivered_total[inbox]"] == 1
    assert delta["otp_sms_delivery_lag_seconds_count"] == 1
    assert delta["otp_sms_delivery_lag_seconds_sum"] > 3600  # requested in January
    assert delta["otp_sms_refused_total[forged]"] == 1
    assert delta["otp_sms_failed_total[code_expired]"] == 0


def test_metrics_endpoint_shows_requests_by_view_and_status_and_the_codes(api_client, phone):
    assert api_client.post("/v1/codes/", {"phone": phone}, format="json").status_code == 202
    page = api_client.get("/metrics")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/plain")
    text = page.content.decode()
    assert (
        'django_http_responses_total_by_status_view_method_total{method="POST",status="202",view="codes-send"}' in text
    )
    assert (
        'django_http_requests_latency_seconds_by_view_method_bucket{le="0.1",method="POST",view="codes-send"}' in text
    )
    assert "otp_codes_sent_total" in text and "otp_sms_delivery_lag_seconds_bucket" in text

"""GET /metrics: requests by view, method and status with their latency (django-prometheus), for
Prometheus on the private network (compose's proxy never routes it)."""

from __future__ import annotations

from django.test import Client


def test_metrics_show_requests_by_view_and_status():
    client = Client()
    assert client.get("/healthz").status_code == 200
    page = client.get("/metrics")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/plain")
    text = page.content.decode()
    assert 'django_http_responses_total_by_status_view_method_total{method="GET",status="200",view="healthz"}' in text
    assert 'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="healthz"}' in text


def test_metrics_leave_out_the_series_that_count_the_same_requests_again():
    client = Client()
    client.get("/healthz")
    text = client.get("/metrics").content.decode()
    # svckit.http_metrics: one counter and one latency histogram per request, nothing per method,
    # transport or body size (django-prometheus still declares those series; none gets a sample).
    for series in ("requests_total_by_method_total", "requests_total_by_transport_total"):
        assert f"django_http_{series}{{" not in text
    assert "django_http_requests_body_total_bytes_count 0.0" in text

"""Metrics as the stack serves them: two web worker processes add up into one /metrics answer
(prometheus-client's multiprocess mode, set up by bin/web), and the Celery worker serves the
delivery metrics on OTP_WORKER_METRICS_BIND."""

from __future__ import annotations

import random

import pytest
import requests
from devstack import wait_until
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.faults
TOKEN = {"Authorization": "Bearer fault-token"}


def _samples(url: str) -> dict[tuple[str, tuple], float]:
    text = requests.get(url, timeout=5).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_web_processes_add_up_and_the_worker_serves_delivery_metrics(private_redis, otp_stack):
    stack = otp_stack(private_redis, OTP_WEB_WORKERS="2")  # the worker's metrics: OTP_WORKER_METRICS_BIND
    url, metrics_port = stack.config.otp_url, stack.config.worker_metrics_port
    phones = [f"+7995{n:07d}" for n in random.sample(range(10_000_000), 6)]
    for phone in phones:
        sent = requests.post(f"{url}/v1/codes/", json={"phone": phone}, headers=TOKEN, timeout=5)
        assert sent.status_code == 202
    for _ in range(4):  # whichever process answers, the totals are the same
        web = _samples(f"{url}/metrics")
        assert web[("otp_codes_sent_total", ())] == 6
        key = ("method", "POST"), ("status", "202"), ("view", "codes-send")
        assert web[("django_http_responses_total_by_status_view_method_total", key)] == 6

    worker_url = f"http://127.0.0.1:{metrics_port}/metrics"

    def delivered() -> bool:
        try:
            samples = _samples(worker_url)
        except requests.RequestException:
            return False
        return samples.get(("otp_sms_delivered_total", (("backend", "inbox"),))) == 6

    assert wait_until(delivered, 20, interval=0.25), "the worker's metrics never showed 6 deliveries"
    samples = _samples(worker_url)
    assert samples[("otp_sms_delivery_lag_seconds_count", ())] == 6
    assert samples[("otp_sms_delivery_lag_seconds_bucket", (("le", "0.5"),))] == 0  # the 1-2 s countdown

"""The Celery app: JSON only, no result backend, late acks for the idempotent delivery task."""

import os

from celery import Celery
from celery.signals import worker_init

from svckit.settings import celery_ignore_environment

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The broker is the one in this service's settings, whatever CELERY_BROKER_URL the environment holds.
celery_ignore_environment()

app = Celery("otp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _serve_metrics(**_kwargs) -> None:
    """The worker's Prometheus metrics (SMS delivered and failed, delivery lag: codes.metrics) over
    HTTP on OTP_WORKER_METRICS_BIND (host:port, the internal network only); none when it is empty."""
    from django.conf import settings
    from prometheus_client import start_http_server

    if settings.OTP_WORKER_METRICS_BIND:
        host, _, port = settings.OTP_WORKER_METRICS_BIND.rpartition(":")
        start_http_server(int(port), addr=host)

"""The Celery app: JSON only, no result backend, late acks for the idempotent delivery task."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("otp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

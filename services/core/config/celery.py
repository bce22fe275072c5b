"""The core's Celery app: its worker runs the webhook dispatcher (a bootstep, webhooks/dispatcher.py);
JSON only, no result backend, late acks for idempotent tasks."""

import os

from celery import Celery

from svckit.settings import celery_ignore_environment

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The broker is the one in this service's settings, whatever CELERY_BROKER_URL the environment holds.
celery_ignore_environment()

app = Celery("core")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add("webhooks.dispatcher:WebhookDispatcherStep")  # a name: loaded once Django is set up

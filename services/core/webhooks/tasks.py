"""Webhook delivery in the core's Celery worker (the app is config/celery.py)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from webhooks.delivery import webhook_delivery_attempt


@shared_task(
    name="webhooks.deliver",
    bind=True,
    acks_late=True,  # idempotent: webhook_delivery_attempt skips a delivery that is done or claimed
    ignore_result=True,
    max_retries=None,  # the schedule in webhooks.services decides when to stop
    autoretry_for=(OperationalError,),  # the database away for a moment
    retry_backoff=5,
    retry_backoff_max=300,
)
def webhook_deliver(self, *, delivery_id: int) -> str:
    """Try one delivery; when the endpoint did not take it, schedule the next try (a countdown, never a sleep)."""
    attempt = webhook_delivery_attempt(delivery_id=delivery_id)
    if attempt.retry_in is not None:
        raise self.retry(countdown=attempt.retry_in)
    return attempt.status

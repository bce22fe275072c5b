"""The delivery log: one row per event and endpoint, written in the transaction that made the event."""

from __future__ import annotations

import uuid

from django.db import models


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"  # queued, or waiting for its next try
        DELIVERED = "delivered", "delivered"  # the endpoint answered 2xx
        FAILED = "failed", "failed"  # no 2xx within the retry window (24 h)

    # The Standard Webhooks `webhook-id`: the same on every try and for every endpoint of one event,
    # so a receiver drops duplicates by it.
    event_id = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField(help_text="The body as sent: type, timestamp, data")
    url = models.URLField(max_length=2000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The endpoint's HTTP status")
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # A try in progress: no other worker starts one before this (the call's deadline, and some).
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="webhook_delivery_status_idx")]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "url"], name="webhook_delivery_one_per_endpoint"),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.url}"

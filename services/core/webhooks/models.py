"""The webhook outbox: one endpoint row per receiving URL (its health, paused or not) and one
delivery row per event and endpoint, written in the transaction that made the event. A delivery's
whole state lives in its row: the dispatcher (webhooks/dispatcher.py) sends what is due."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="The first failed try since the last success; empty while it answers"
    )
    paused_at = models.DateTimeField(
        null=True, blank=True, help_text="Paused after failing for WEBHOOK_DISABLE_AFTER_HOURS; nothing is sent"
    )
    pause_count = models.PositiveIntegerField(default=0, help_text="How many times it has been paused")

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"  # due at next_attempt_at (held while its endpoint is paused)
        DELIVERED = "delivered", "delivered"  # the endpoint answered 2xx
        FAILED = "failed", "failed"  # no 2xx within the retry window (24 h)

    # The Standard Webhooks `webhook-id`: the same on every try, every replay and for every endpoint
    # of one event, so a receiver drops duplicates by it.
    event_id = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField(help_text="The body as sent: type, timestamp, data")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # When a pending delivery is next tried; while a try is under way, the end of its claim (the
    # call's deadline and a margin), after which another worker may try again. Empty once done.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    retry_window_start = models.DateTimeField(
        default=timezone.now, help_text="The retry schedule and its 24 h count from here: the event, or its replay"
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Tries since the retry window started")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The endpoint's HTTP status")
    last_error = models.CharField(max_length=500, blank=True, help_text="Why the last try failed, or its answer")
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="webhook_delivery_status_idx"),
            # The dispatcher's two questions: which endpoints have something due, and what is next.
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "endpoint"], name="webhook_delivery_one_per_endpoint"),
            models.CheckConstraint(
                condition=~models.Q(status="pending") | models.Q(next_attempt_at__isnull=False),
                name="webhook_delivery_pending_is_due",
            ),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint_id}"

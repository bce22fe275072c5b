"""The outbox migration carries the old delivery log over: one endpoint per URL, every pending row
due at once (its Celery countdown is gone), the retry windows counted from each event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = [("webhooks", "0002_delivery_claim")], [("webhooks", "0003_outbox")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_pending_rows_of_the_old_log_become_due_and_keep_their_window():
    old = _migrate(BEFORE).get_model("webhooks", "WebhookDelivery")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    rows = [
        old.objects.create(event_type="user.registered", payload={}, url="https://a.example/h", status="pending"),
        old.objects.create(event_type="user.registered", payload={}, url="https://b.example/h", status="delivered"),
        old.objects.create(event_type="user.registered", payload={}, url="https://a.example/h", status="failed"),
    ]
    old.objects.filter(pk=rows[0].pk).update(created_at=an_hour_ago)
    try:
        apps = _migrate(AFTER)
        new, endpoints = apps.get_model("webhooks", "WebhookDelivery"), apps.get_model("webhooks", "WebhookEndpoint")
        assert sorted(endpoints.objects.values_list("url", flat=True)) == ["https://a.example/h", "https://b.example/h"]
        pending, delivered, failed = (new.objects.select_related("endpoint").get(pk=row.pk) for row in rows)
        assert pending.endpoint.url == failed.endpoint.url == "https://a.example/h"
        assert pending.next_attempt_at <= timezone.now() and pending.retry_window_start == an_hour_ago
        assert delivered.next_attempt_at is None and failed.next_attempt_at is None
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

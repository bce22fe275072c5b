"""The outbox: endpoints with their health, and each delivery's schedule in its own row
(next_attempt_at, the old claim's column; retry_window_start). Pending rows are due at once."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def forwards(apps, schema_editor):
    endpoint_model = apps.get_model("webhooks", "WebhookEndpoint")
    delivery_model = apps.get_model("webhooks", "WebhookDelivery")
    for url in delivery_model.objects.order_by().values_list("url", flat=True).distinct():
        endpoint = endpoint_model.objects.create(url=url)
        delivery_model.objects.filter(url=url).update(endpoint=endpoint)
    delivery_model.objects.update(retry_window_start=F("created_at"))
    delivery_model.objects.filter(status="pending").update(next_attempt_at=django.utils.timezone.now())
    delivery_model.objects.exclude(status="pending").update(next_attempt_at=None)


def backwards(apps, schema_editor):
    delivery_model = apps.get_model("webhooks", "WebhookDelivery")
    for delivery in delivery_model.objects.select_related("endpoint"):
        delivery.url = delivery.endpoint.url
        delivery.save(update_fields=["url"])


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_delivery_claim"),
    ]

    operations = [
        migrations.CreateModel(
            name="WebhookEndpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("url", models.URLField(max_length=2000, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_success_at", models.DateTimeField(blank=True, null=True)),
                (
                    "failing_since",
                    models.DateTimeField(
                        blank=True,
                        help_text="The first failed try since the last success; empty while it answers",
                        null=True,
                    ),
                ),
                (
                    "paused_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Paused after failing for WEBHOOK_DISABLE_AFTER_HOURS; nothing is sent",
                        null=True,
                    ),
                ),
                ("pause_count", models.PositiveIntegerField(default=0, help_text="How many times it has been paused")),
            ],
            options={"ordering": ["url"]},
        ),
        migrations.RemoveConstraint(model_name="webhookdelivery", name="webhook_delivery_one_per_endpoint"),
        migrations.AddField(
            model_name="webhookdelivery",
            name="endpoint",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="deliveries",
                to="webhooks.webhookendpoint",
            ),
        ),
        migrations.RenameField(model_name="webhookdelivery", old_name="claimed_until", new_name="next_attempt_at"),
        migrations.AddField(
            model_name="webhookdelivery",
            name="retry_window_start",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                help_text="The retry schedule and its 24 h count from here: the event, or its replay",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="endpoint",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="deliveries", to="webhooks.webhookendpoint"
            ),
        ),
        migrations.RemoveField(model_name="webhookdelivery", name="url"),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, default=django.utils.timezone.now, null=True),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, help_text="Tries since the retry window started"),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="last_error",
            field=models.CharField(blank=True, help_text="Why the last try failed, or its answer", max_length=500),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["endpoint", "next_attempt_at"],
                name="webhook_delivery_due_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(
                fields=("event_id", "endpoint"), name="webhook_delivery_one_per_endpoint"
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(("status", "pending"), _negated=True) | models.Q(("next_attempt_at__isnull", False)),
                name="webhook_delivery_pending_is_due",
            ),
        ),
    ]

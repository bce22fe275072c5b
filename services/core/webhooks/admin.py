"""The webhook outbox in the admin: endpoints (paused ones first, with a Resume action) and the
delivery log (with a Replay action). Rows are written by the outbox alone; staff act through the
two actions, each a service call, each recorded in the admin's history."""

from django.contrib import admin, messages
from django.db.models import Count, F, Q

from common.admin import ReadOnlyAdmin
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_delivery_replay, webhook_endpoint_resume


class _StaffActions(ReadOnlyAdmin):
    def has_act_permission(self, request) -> bool:
        return request.user.has_perm(f"webhooks.change_{self.opts.model_name}")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_StaffActions):
    list_display = ("url", "state", "failing_since", "paused_at", "pause_count", "last_success_at", "held")
    list_filter = (("paused_at", admin.EmptyFieldListFilter),)
    actions = ["resume"]
    readonly_fields = [field.name for field in WebhookEndpoint._meta.fields]
    ordering = (F("paused_at").desc(nulls_last=True), "url")  # paused endpoints first

    def get_queryset(self, request):
        pending = Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING))
        return super().get_queryset(request).annotate(held=pending)

    @admin.display(description="state")
    def state(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.paused_at:
            return "PAUSED"
        return "failing" if endpoint.failing_since else "ok"

    @admin.display(description="pending deliveries", ordering="held")
    def held(self, endpoint) -> int:
        return endpoint.held

    @admin.action(description="Resume the selected paused endpoints", permissions=["act"])
    def resume(self, request, queryset) -> None:
        for endpoint in queryset.filter(paused_at__isnull=False):
            held = webhook_endpoint_resume(endpoint_id=endpoint.pk)
            self.log_change(request, endpoint, f"Resumed; {held} held deliveries due now")
            self.message_user(request, f"{endpoint.url} resumed: {held} held deliveries are due now.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_StaffActions):
    list_display = (
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type", "endpoint")
    list_select_related = ("endpoint",)
    search_fields = ("event_id", "endpoint__url")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    actions = ["replay"]

    @admin.action(description="Replay the selected deliveries (same webhook-id)", permissions=["act"])
    def replay(self, request, queryset) -> None:
        deliveries = list(queryset.select_related("endpoint"))
        count = webhook_delivery_replay(delivery_ids=[delivery.pk for delivery in deliveries])
        for delivery in deliveries:
            self.log_change(request, delivery, "Replayed")
        paused = sum(1 for delivery in deliveries if delivery.endpoint.paused_at)
        note = f" {paused} wait for their paused endpoint to be resumed." if paused else ""
        self.message_user(request, f"{count} deliveries are due now.{note}", messages.SUCCESS)

"""The webhook delivery log: what was sent where, how many tries, the last answer. Read-only."""

from django.contrib import admin

from webhooks.models import WebhookDelivery


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type",
        "event_id",
        "url",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("event_id", "url")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

"""Referrals in the admin: the list of who invited whom with a CSV export, and the top inviters.
Both are read-only: invite_activate is the only writer of referral fields."""

from __future__ import annotations

from django.contrib import admin

from common.admin import ReadOnlyAdmin
from common.csv_export import csv_response
from invites.models import Inviter, Referral

CSV_HEADER = ("referral_phone", "activated_at", "inviter_phone", "invite_code")


def _referral_rows(queryset):
    rows = queryset.order_by("-invite_activated_at", "-id").values_list(
        "phone", "invite_activated_at", "invited_by__phone", "invited_by__invite_code"
    )
    for phone, activated_at, inviter_phone, code in rows.iterator(chunk_size=2000):
        yield phone, activated_at.isoformat().replace("+00:00", "Z"), inviter_phone, code


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("phone", "invite_activated_at", "invited_by")
    list_select_related = ("invited_by",)
    search_fields = ("phone", "invited_by__phone", "invited_by__invite_code")
    date_hierarchy = "invite_activated_at"
    ordering = ("-invite_activated_at", "-id")
    actions = ["export_csv"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(invited_by__isnull=False)

    @admin.action(description="Download the selected referrals as CSV")
    def export_csv(self, request, queryset):
        """Select all (the admin's "select all N") to export every referral; streamed, flat memory."""
        return csv_response(filename="referrals.csv", header=CSV_HEADER, rows=_referral_rows(queryset))


@admin.register(Inviter)
class InviterAdmin(ReadOnlyAdmin):
    list_display = ("phone", "invite_code", "referrals_count", "date_joined")
    search_fields = ("phone", "invite_code")
    ordering = ("-referrals_count", "id")
    actions = ["export_csv"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(referrals_count__gt=0)

    @admin.action(description="Download the referrals of the selected inviters as CSV")
    def export_csv(self, request, queryset):
        referrals = Referral.objects.filter(invited_by__in=queryset.values("pk"))
        return csv_response(filename="referrals.csv", header=CSV_HEADER, rows=_referral_rows(referrals))

"""Referrals in the admin: the list of who invited whom with a CSV export, and the top inviters.
Both are read-only: invite_activate is the only writer of referral fields.

The export's rows are referrals: it needs the view permission on referrals, wherever it starts.
The inviter's invite code is shown by the top inviters' (and the users') admin, not by the
referrals' list: without the view permission on one of those, the column is left out."""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin

from common.admin import ExportColumn, ReadOnlyAdmin, admin_csv_export, may_view
from invites.models import Inviter, Referral
from users.models import User


def _utc_iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


EXPORT_COLUMNS = (
    ExportColumn("referral_phone", "phone", shown_by=(Referral,)),
    ExportColumn("activated_at", "invite_activated_at", shown_by=(Referral,), write=_utc_iso),
    ExportColumn("inviter_phone", "invited_by__phone", shown_by=(Referral, Inviter, User)),  # the list's "invited by"
    ExportColumn("invite_code", "invited_by__invite_code", shown_by=(Inviter, User)),
)


def _referrals_csv(request, referrals):
    """Streamed, flat memory, newest activation first."""
    return admin_csv_export(
        request,
        queryset=referrals.order_by("-invite_activated_at", "-id"),
        columns=EXPORT_COLUMNS,
        filename="referrals.csv",
    )


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
        """Select all (the admin's "select all N") to export every referral."""
        return _referrals_csv(request, queryset)


@admin.register(Inviter)
class InviterAdmin(ReadOnlyAdmin):
    list_display = ("phone", "invite_code", "referrals_count", "date_joined")
    search_fields = ("phone", "invite_code")
    ordering = ("-referrals_count", "id")
    actions = ["export_csv"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(referrals_count__gt=0)

    def has_referral_view_permission(self, request) -> bool:
        """The export action's permission (offered, and accepted when posted, only with it)."""
        return may_view(request.user, Referral)

    @admin.action(description="Download the referrals of the selected inviters as CSV", permissions=["referral_view"])
    def export_csv(self, request, queryset):
        return _referrals_csv(request, Referral.objects.filter(invited_by__in=queryset.values("pk")))

"""Users in the admin: find them by phone (any format) or invite code, see who invited whom.

Referral fields are read-only here: invite_activate is the only writer, so the denormalised
referrals_count stays true. Users are deactivated, never deleted (their referrals point at them).
Accounts appear at first sign-in; staff accounts come from `manage.py createsuperuser`, their
authenticators from `manage.py staff_totp_enroll` (listed here, never made or shown here).
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django_otp.plugins.otp_totp.models import TOTPDevice

from common.admin import ReadOnlyAdmin
from common.phones import phone_normalize
from svckit.phones import InvalidPhone
from users.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("phone", "invite_code", "invited_by", "referrals_link", "invite_activated_at", "date_joined")
    list_display_links = ("phone",)
    list_filter = ("is_active", "is_staff")
    list_select_related = ("invited_by",)
    search_fields = ("phone", "invite_code")
    search_help_text = "A phone (any format) or an invite code."
    ordering = ("-date_joined",)
    show_full_result_count = False
    fields = (
        "phone",
        "invite_code",
        "invited_by",
        "invite_activated_at",
        "referrals_link",
        "date_joined",
        "last_login",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    )
    readonly_fields = (
        "phone",
        "invite_code",
        "invited_by",
        "invite_activated_at",
        "referrals_link",
        "date_joined",
        "last_login",
    )
    filter_horizontal = ("groups", "user_permissions")

    @admin.display(description="referrals", ordering="referrals_count")
    def referrals_link(self, user: User) -> str:
        if not user.referrals_count:
            return "0"
        url = reverse("admin:users_user_changelist") + f"?invited_by__id__exact={user.pk}"
        return format_html('<a href="{}">{}</a>', url, user.referrals_count)

    def get_search_results(self, request, queryset, search_term):
        # `8 999 123-45-67` finds +79991234567; lower-case invite codes match too (icontains).
        try:
            phone = phone_normalize(search_term)
        except InvalidPhone:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(phone=phone), False

    def save_model(self, request, obj: User, form, change: bool) -> None:
        """Write only the fields this form changed: a full save would write back the referral
        fields as they were read, undoing an activation that committed meanwhile."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        m2m = {field.name for field in User._meta.many_to_many}
        obj.save(update_fields=[name for name in form.changed_data if name not in m2m])

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.unregister(TOTPDevice)  # django-otp's own admin adds devices and edits their secrets


@admin.register(TOTPDevice)
class StaffAuthenticatorAdmin(ReadOnlyAdmin):
    """Who has an authenticator, since when and when it last let them in. Deleting one revokes it:
    its owner is out of the admin until enrolled again (docs/admin.md)."""

    list_display = ("user", "name", "created_at", "last_used_at", "throttling_failure_count")
    list_select_related = ("user",)
    search_fields = ("user__phone",)
    fields = list_display
    readonly_fields = list_display

    def has_delete_permission(self, request, obj=None) -> bool:
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

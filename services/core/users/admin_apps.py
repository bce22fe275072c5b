"""django.contrib.admin with the staff site as `admin.site` (Django's documented way to replace the
default site), so every `@admin.register` in the apps lands on the site that asks for a TOTP."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "users.admin_site.StaffAdminSite"

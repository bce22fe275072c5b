"""Admin pieces shared by the core's apps."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A model admin that lists and shows, never adds, changes or deletes (its rows have one writer
    elsewhere), and skips the admin's second COUNT(*) over the whole table."""

    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

"""Admin pieces shared by the core's apps: read-only model admins, and CSV exports that show a
staff member only what the admin would show them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import StreamingHttpResponse

from common.csv_export import csv_response

EXPORT_CHUNK_ROWS = 2000


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


def _as_is(value: Any) -> object:
    return value


@dataclass(frozen=True)
class ExportColumn:
    """One column of an admin CSV export: its header, the lookup it reads (as for values_list),
    the models whose admin shows this value (view permission on any one of them shows the column),
    and how a value is written."""

    header: str
    lookup: str
    shown_by: tuple[type[Model], ...]
    write: Callable[[Any], object] = _as_is


def may_view(user, model: type[Model]) -> bool:
    """Whether `user` holds the view permission the admin asks for `model` (`<app>.view_<model>`;
    a proxy model has its own, Django's default since 2.2). Superusers hold every one."""
    opts = model._meta
    return user.has_perm(f"{opts.app_label}.{get_permission_codename('view', opts)}")


def export_columns_viewable(*, user, columns: Sequence[ExportColumn]) -> list[ExportColumn]:
    """The columns `user` may see, in their order: the others are left out of the file."""
    return [column for column in columns if any(may_view(user, model) for model in column.shown_by)]


def admin_csv_export(
    request, *, queryset: QuerySet, columns: Sequence[ExportColumn], filename: str
) -> StreamingHttpResponse:
    """The rows of `queryset` as a streamed CSV attachment (common.csv_export), with only the
    columns the signed-in staff member may view: a value the admin would not show them (another
    model's, on which they have no view permission) is not in the file, nor is its header.

    Raises PermissionDenied (403) when they may not view the rows' own model, or no column is left."""
    if not may_view(request.user, queryset.model):
        raise PermissionDenied
    shown = export_columns_viewable(user=request.user, columns=columns)
    if not shown:
        raise PermissionDenied
    values = queryset.values_list(*(column.lookup for column in shown)).iterator(chunk_size=EXPORT_CHUNK_ROWS)

    def rows() -> Iterator[tuple[object, ...]]:
        for row in values:
            yield tuple(column.write(value) for column, value in zip(shown, row, strict=True))

    return csv_response(filename=filename, header=[column.header for column in shown], rows=rows())

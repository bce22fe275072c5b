"""The business errors both services raise: each class owns its code, status and messages.

`message` is the API's (the envelope's `message`); a page shows `human_message()`, which is the same
text unless the class words it for people (`page_message`, or counts from its details). Rendering
lives in svckit.handlers; this module imports no DRF, so settings may import the errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# Every code an ApplicationError subclass declares: a validation error carrying one of them is that
# error (e.g. `invalid_phone`), any other code is DRF's generic `validation_error`.
DECLARED_CODES: set[str] = set()


class ApplicationError(Exception):
    code = "error"
    message: StrOrPromise = _("Something went wrong.")
    # What a person reads on a page, where the API's `message` is worded for clients.
    page_message: StrOrPromise | None = None
    status = 400
    # The details this error carries, name → JSON type (str, int): all that a client of the service
    # that raised it reads back from the envelope (from_details).
    detail_fields: ClassVar[Mapping[str, type]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        DECLARED_CODES.add(cls.code)

    def __init__(
        self,
        message: StrOrPromise | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        self.retry_after = None if retry_after is None else max(1, math.ceil(retry_after))
        super().__init__(self.message)

    def human_message(self) -> str:
        """The message for a page, in the active language: `page_message`, else the API's `message`."""
        return str(self.page_message or self.message)

    @classmethod
    def from_details(cls, details: Mapping[str, Any], *, retry_after: float | None = None) -> ApplicationError:
        """This error as a client reads it back from another service's envelope: its own message (in
        the client's language), and of the `details` sent only the declared fields of the declared
        type (a missing or mistyped one is left out; a bool is no int)."""
        kept = {name: details[name] for name, kind in cls.detail_fields.items() if _is_a(details.get(name), kind)}
        return cls(details=kept, retry_after=retry_after)


def _is_a(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)


class TooManyRequests(ApplicationError):
    code = "too_many_requests"
    message = _("Too many requests. Try again later.")
    status = 429

    def human_message(self) -> str:
        """`Too many requests. Try again in N seconds.` (Retry-After; a minute if unknown)."""
        seconds = self.retry_after or 60
        return ngettext(
            "Too many requests. Try again in %(seconds)d second.",
            "Too many requests. Try again in %(seconds)d seconds.",
            seconds,
        ) % {"seconds": seconds}


class ServiceUnavailable(ApplicationError):
    code = "unavailable"
    message = _("The service is temporarily unavailable. Try again shortly.")
    status = 503


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    message = _("The database is unavailable. Try again shortly.")
    # Seconds: a restart or a failover to a replica takes about that long.
    default_retry_after = 5

    def __init__(self, message: StrOrPromise | None = None, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(
            message, retry_after=self.default_retry_after if retry_after is None else retry_after, **kwargs
        )


class InternalError(ApplicationError):
    code = "internal_error"
    message = _("Internal error. It has been logged.")
    status = 500

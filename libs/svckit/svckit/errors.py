"""One error envelope for every response: {"error": {"code", "message", "details"}}.

Business code raises ApplicationError subclasses; `exception_handler` (set as DRF's
EXCEPTION_HANDLER) renders those and DRF's own exceptions. `json_404` / `json_500` cover
Django's non-DRF paths so nothing ever answers with an HTML page or a stack trace.
A lost database connection is 503 `database_unavailable` on both paths (`error_for`).
"""

from __future__ import annotations

import logging
import math
import sys
from typing import TYPE_CHECKING, Any

from django import db
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    code = "error"
    message: StrOrPromise = "Something went wrong."
    status = 400

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


class TooManyRequests(ApplicationError):
    code = "too_many_requests"
    message = "Too many requests. Try again later."
    status = 429


class ServiceUnavailable(ApplicationError):
    code = "unavailable"
    message = "The service is temporarily unavailable. Try again shortly."
    status = 503


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    message = "The database is unavailable. Try again shortly."


class InternalError(ApplicationError):
    code = "internal_error"
    message = "Internal error. It has been logged."
    status = 500


# Connection refused or lost, server restarting, statement cancelled, lock or serialization
# failures: all transient, so "try again" (503) rather than a bug (500). Django reconnects by
# itself on a later request (CONN_HEALTH_CHECKS).
_DATABASE_DOWN = (db.OperationalError, db.InterfaceError)


# DRF's generic validation codes; a custom code (e.g. "invalid_phone") wins over them.
_GENERIC_CODES = {
    "invalid",
    "required",
    "null",
    "blank",
    "max_length",
    "min_length",
    "max_value",
    "min_value",
    "max_string_length",
    "not_a_list",
    "empty",
    "invalid_choice",
    "does_not_exist",
    "incorrect_type",
    "date",
    "datetime",
    "surrogate_characters_not_allowed",
    "null_characters_not_allowed",
    "max_digits",
    "max_decimal_places",
    "max_whole_digits",
    "unique",
}


def _flatten_codes(codes: Any) -> list[str]:
    if isinstance(codes, dict):
        return [c for value in codes.values() for c in _flatten_codes(value)]
    if isinstance(codes, list):
        return [c for value in codes for c in _flatten_codes(value)]
    return [str(codes)]


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def error_body(code: str, message: StrOrPromise, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "details": details or {}}}


def _validation_error(exc: drf.ValidationError) -> tuple[str, str, dict[str, Any]]:
    custom = [c for c in _flatten_codes(exc.get_codes()) if c not in _GENERIC_CODES]
    if custom:
        return custom[0], _first_message(exc.detail), {}
    detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    return "validation_error", "The request body is not valid.", {"fields": detail}


_DRF_CODES: list[tuple[type[Exception], str, int, str]] = [
    (drf.NotAuthenticated, "not_authenticated", 401, "Authentication credentials are missing or not valid."),
    (drf.AuthenticationFailed, "not_authenticated", 401, "Authentication credentials are missing or not valid."),
    (drf.ParseError, "malformed_request", 400, "The request body is not valid JSON."),
    (drf.UnsupportedMediaType, "unsupported_media_type", 415, "Send the body as application/json."),
    (drf.MethodNotAllowed, "method_not_allowed", 405, "This method is not allowed here."),
    (drf.NotAcceptable, "not_acceptable", 406, "Only application/json responses are available."),
    (drf.NotFound, "not_found", 404, "Not found."),
    (drf.PermissionDenied, "permission_denied", 403, "You may not do this."),
    (drf.Throttled, "too_many_requests", 429, "Too many requests. Try again later."),
]


def error_for(exc: BaseException | None) -> ApplicationError | None:
    """The error an exception stands for, or None for a bug (which stays a logged 500)."""
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, _DATABASE_DOWN):
        logger.warning("database unavailable: %s", str(exc).strip())
        return DatabaseUnavailable()
    if isinstance(exc, drf.ValidationError):
        code, message, details = _validation_error(exc)
        return ApplicationError(message, code=code, status=400, details=details)
    if isinstance(exc, Http404):
        return ApplicationError("Not found.", code="not_found", status=404)
    if isinstance(exc, PermissionDenied):
        return ApplicationError("You may not do this.", code="permission_denied", status=403)
    if isinstance(exc, RequestDataTooBig):
        return ApplicationError("The request body is too large.", code="payload_too_large", status=413)
    if isinstance(exc, TooManyFieldsSent):
        return ApplicationError("The request has too many fields.", code="payload_too_large", status=413)
    for cls, code, status, message in _DRF_CODES:
        if isinstance(exc, cls):
            wait = getattr(exc, "wait", None)
            return ApplicationError(message, code=code, status=status, retry_after=wait)
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF EXCEPTION_HANDLER: every known error becomes the envelope; unknown ones re-raise."""
    error = error_for(exc)
    if error is None:
        return None
    response = Response(error_body(error.code, error.message, error.details), status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def json_404(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_500(request) -> JsonResponse:
    """handler500; Django calls it while handling the exception, so sys.exc_info() names it."""
    error = error_for(sys.exc_info()[1]) or InternalError()
    return JsonResponse(error_body(error.code, error.message, error.details), status=error.status)


def json_400(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def json_403(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("permission_denied", "You may not do this."), status=403)

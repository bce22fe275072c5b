"""One error envelope for every response: {"error": {"code", "message", "details"}}.

Business code raises svckit.errors.ApplicationError subclasses; `exception_handler` (set as DRF's
EXCEPTION_HANDLER) renders those and DRF's own exceptions, starting from DRF's own handler so that
its headers (the view's WWW-Authenticate, Retry-After) and its transaction rollback are kept.
`json_404` / `json_500` cover Django's non-DRF paths so nothing ever answers with an HTML page or a stack trace.
A lost, restarting or read-only database is 503 `database_unavailable` with Retry-After on both paths
(`error_for`, deciding by svckit.database).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf
from rest_framework import views as drf_views
from rest_framework.authentication import BaseAuthentication
from rest_framework.response import Response
from rest_framework.settings import api_settings

from svckit.database import database_unavailable
from svckit.errors import DECLARED_CODES, ApplicationError, DatabaseUnavailable, InternalError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)


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


def _validation_error(exc: drf.ValidationError) -> tuple[str, StrOrPromise, dict[str, Any]]:
    custom = [c for c in _flatten_codes(exc.get_codes()) if c in DECLARED_CODES]
    if custom:
        return custom[0], _first_message(exc.detail), {}
    detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    return "validation_error", _("The request body is not valid."), {"fields": detail}


# Where the API's documented code differs from the one DRF (or SimpleJWT) names the exception.
_RENAMED_CODES = {
    "authentication_failed": "not_authenticated",
    "token_not_valid": "not_authenticated",
    "parse_error": "malformed_request",
    "throttled": "too_many_requests",
}


def _api_exception_error(exc: drf.APIException) -> ApplicationError:
    """DRF's status, code and (translated) message; the code renamed where the API's differs."""
    detail = exc.detail.get("detail", exc.detail) if isinstance(exc.detail, dict) else exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    return ApplicationError(
        _first_message(detail),
        code=_RENAMED_CODES.get(str(code), str(code)),
        status=exc.status_code,
        retry_after=getattr(exc, "wait", None),
    )


def error_for(exc: BaseException | None) -> ApplicationError | None:
    """The error an exception stands for, or None for a bug (which stays a logged 500)."""
    if isinstance(exc, ApplicationError):
        return exc
    # Transient, so "try again" (503) rather than a bug (500); Django reconnects by itself on a
    # later request (CONN_HEALTH_CHECKS).
    if database_unavailable(exc):
        logger.warning("database unavailable: %s", str(exc).strip())
        return DatabaseUnavailable()
    if isinstance(exc, drf.ValidationError):
        code, message, details = _validation_error(exc)
        return ApplicationError(message, code=code, status=400, details=details)
    if isinstance(exc, Http404):
        return _api_exception_error(drf.NotFound())
    if isinstance(exc, PermissionDenied):
        return _api_exception_error(drf.PermissionDenied())
    if isinstance(exc, RequestDataTooBig):
        return ApplicationError(_("The request body is too large."), code="payload_too_large", status=413)
    if isinstance(exc, TooManyFieldsSent):
        return ApplicationError(_("The request has too many fields."), code="payload_too_large", status=413)
    if isinstance(exc, drf.APIException):
        return _api_exception_error(exc)
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF EXCEPTION_HANDLER: every known error becomes the envelope; unknown ones re-raise (500).

    DRF's own handler answers first: its response carries the headers DRF sets (WWW-Authenticate from
    the view's first authenticator, Retry-After) and it marks the atomic request for rollback. Our
    errors, which DRF does not know, get the same rollback here."""
    error = error_for(exc)
    if error is None:
        return None
    response = drf_views.exception_handler(exc, context)
    if response is None:
        drf_views.set_rollback()
        response = Response(status=error.status)
    response.data = error_body(error.code, error.message, error.details)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    if error.status == 401 and not response.has_header("WWW-Authenticate"):
        challenge = _service_challenge(context["request"])
        if challenge:
            response["WWW-Authenticate"] = challenge
    return response


def _service_challenge(request: Any) -> str | None:
    """The service's own WWW-Authenticate (its default authenticators'), for a 401 from a view that
    authenticates no one, such as a refresh-token endpoint. RFC 9110 §11.6.1: a 401 carries one."""
    for authenticator in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        challenge = cast("type[BaseAuthentication]", authenticator)().authenticate_header(request)  # imported by DRF
        if challenge:
            return challenge
    return None


def json_404(request, exception=None) -> JsonResponse:
    error = _api_exception_error(drf.NotFound())
    return JsonResponse(error_body(error.code, error.message), status=error.status)


def json_500(request) -> JsonResponse:
    """handler500; Django calls it while handling the exception, so sys.exc_info() names it."""
    error = error_for(sys.exc_info()[1]) or InternalError()
    response = JsonResponse(error_body(error.code, error.message, error.details), status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def json_400(request, exception=None) -> JsonResponse:
    return JsonResponse(error_body("bad_request", _("Bad request.")), status=400)


def json_403(request, exception=None) -> JsonResponse:
    error = _api_exception_error(drf.PermissionDenied())
    return JsonResponse(error_body(error.code, error.message), status=error.status)

"""The OTP service's internal HTTP API (called by the core service) and the dev inbox."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from codes import services
from codes.errors import InvalidCode, ServiceUnavailable, TooManyAttempts, TooManyRequests
from codes.serializers import (
    CodeRequestSerializer,
    CodeSentSerializer,
    CodeVerifySerializer,
    InboxSerializer,
    VerifiedSerializer,
)
from svckit.handlers import error_body
from svckit.openapi import error_response, too_many
from svckit.otp import SmsLimitReached
from svckit.phones import NOT_E164, InvalidPhone, UnsupportedCountry, UnsupportedNumber, strict_e164

UNAUTHORIZED = error_response("Missing or wrong service token.", "not_authenticated")
UNAVAILABLE = error_response("Redis or the broker is unreachable.", ServiceUnavailable)


class CodeSendApi(APIView):
    @swagger_auto_schema(
        operation_id="codes_send",
        operation_summary="Send a new code by SMS (delivered 1–2 s later); replaces the previous one",
        request_body=CodeRequestSerializer,
        responses={
            202: CodeSentSerializer,
            400: error_response(
                "Malformed or invalid body, or a number SMS_ALLOWED_NUMBER_TYPES / SMS_ALLOWED_COUNTRIES refuse.",
                InvalidPhone,
                UnsupportedNumber,
                UnsupportedCountry,
                "validation_error",
                "malformed_request",
            ),
            401: UNAUTHORIZED,
            429: too_many(
                "Resend cooldown or hourly cap; or the SMS-pumping guard (sms_limit_reached, details.scope: "
                "prefix, country, service or conversion).",
                TooManyRequests,
                SmsLimitReached,
            ),
            503: UNAVAILABLE,
        },
    )
    def post(self, request):
        serializer = CodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sent = services.otp_send(**serializer.validated_data)
        return Response({"expires_in": sent.expires_in, "resend_in": sent.resend_in}, status=202)


class CodeVerifyApi(APIView):
    @swagger_auto_schema(
        operation_id="codes_verify",
        operation_summary="Check a code; a right code is used up",
        request_body=CodeVerifySerializer,
        responses={
            200: VerifiedSerializer,
            400: error_response(
                "Wrong, expired or never sent (one answer for all).",
                InvalidCode,
                InvalidPhone,
                "validation_error",
                details={"attempts_left": 4},
            ),
            401: UNAUTHORIZED,
            429: too_many(
                "The code is burned after too many wrong guesses (details.scope: code), or the phone's "
                "OTP_MAX_FAILURES_PER_DAY is spent, the right code refused too (details.scope: phone).",
                TooManyAttempts,
            ),
            503: UNAVAILABLE,
        },
    )
    def post(self, request):
        serializer = CodeVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.otp_verify(**serializer.validated_data)
        return Response({"verified": True})


def _inbox_phone(raw: str | None) -> str | None:
    if not raw:
        return None
    # An unencoded `+` in a query string arrives as a space.
    raw = "+" + raw[1:] if raw.startswith(" ") else raw
    try:
        return strict_e164(raw)
    except InvalidPhone as exc:
        raise InvalidPhone(NOT_E164) from exc


def _require_inbox() -> None:
    if settings.SMS_BACKEND != "inbox":
        raise Http404("The dev inbox is off (SMS_BACKEND is not 'inbox').")


class InboxApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @swagger_auto_schema(
        operation_id="inbox_list",
        operation_summary="Dev SMS inbox (only with SMS_BACKEND=inbox): newest first",
        manual_parameters=[
            openapi.Parameter("phone", openapi.IN_QUERY, type=openapi.TYPE_STRING, description="E.164; all if absent")
        ],
        security=[],
        responses={
            200: InboxSerializer,
            400: error_response("Bad phone.", InvalidPhone),
            404: error_response("The inbox is off.", "not_found"),
        },
    )
    def get(self, request):
        _require_inbox()
        phone = _inbox_phone(request.query_params.get("phone"))
        return Response({"messages": services.inbox_messages(phone=phone)})


def inbox_page(request):
    _require_inbox()
    return render(request, "codes/inbox.html", {"messages": services.inbox_messages(phone=None)})


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    if services.redis_ready():
        return JsonResponse({"status": "ok", "checks": {"redis": "ok"}})
    body = error_body("unavailable", "Redis does not answer.", {"redis": "unavailable"})
    return JsonResponse(body, status=503)

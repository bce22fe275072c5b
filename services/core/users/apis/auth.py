"""Sign-in by phone: request a code, refresh the JWT pair (rotating), log out. Trading the code for
the pair (which may carry an invite code) is signin.apis."""

from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import InvalidToken
from common.openapi import BAD_BODY_CODES, BODY_ERRORS, DATABASE_UNAVAILABLE, OTP_UNAVAILABLE, too_many
from common.throttles import AuthIpThrottle
from svckit.errors import TooManyRequests
from svckit.openapi import error_response
from svckit.otp import SmsLimitReached
from svckit.phones import InvalidPhone, UnsupportedCountry, UnsupportedNumber
from users import services, tokens
from users.serializers import CodeRequestSerializer, CodeSentSerializer, RefreshRequestSerializer, TokenPairSerializer

INVALID_TOKEN = error_response("The refresh token is invalid, expired or already used.", InvalidToken)


class PublicApi(APIView):
    """No Bearer token needed (a stale one in the header is ignored, never a 401)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class AuthCodeApi(PublicApi):
    throttle_classes = [AuthIpThrottle]
    throttle_scope = "code"

    @swagger_auto_schema(
        operation_id="auth_code",
        operation_summary="Text a sign-in code to a phone (same answer whether or not it has an account)",
        request_body=CodeRequestSerializer,
        manual_parameters=[
            openapi.Parameter(
                "Accept-Language",
                openapi.IN_HEADER,
                type=openapi.TYPE_STRING,
                required=False,
                description="The SMS's and the error messages' language: Russian for ru, English otherwise",
            )
        ],
        security=[],
        responses={
            202: CodeSentSerializer,
            400: error_response(
                "Not a phone number (any letter included), a number that cannot take our SMS "
                "(SMS_ALLOWED_NUMBER_TYPES: details.number_type) or of a country outside SMS_ALLOWED_COUNTRIES "
                "(details.country), or a malformed body.",
                InvalidPhone,
                UnsupportedNumber,
                UnsupportedCountry,
                *BAD_BODY_CODES,
            ),
            **BODY_ERRORS,
            429: too_many(
                "Resend cooldown or hourly cap for this phone, or too many requests; or the SMS-pumping guard "
                "(sms_limit_reached, details.scope: prefix, country, service or conversion).",
                TooManyRequests,
                SmsLimitReached,
            ),
            503: OTP_UNAVAILABLE,
        },
    )
    def post(self, request):
        serializer = CodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        phone = serializer.validated_data["phone"]
        sent = services.auth_code_send(phone=phone, language=request.LANGUAGE_CODE)
        return Response({"phone": phone, "expires_in": sent.expires_in, "resend_in": sent.resend_in}, status=202)


class TokenRefreshApi(PublicApi):
    @swagger_auto_schema(
        operation_id="auth_token_refresh",
        operation_summary="Trade a refresh token for a new pair; the one sent is used up (rotation)",
        request_body=RefreshRequestSerializer,
        security=[],
        responses={
            200: TokenPairSerializer,
            400: error_response("Malformed body.", *BAD_BODY_CODES),
            401: INVALID_TOKEN,
            **BODY_ERRORS,
            503: DATABASE_UNAVAILABLE,
        },
    )
    def post(self, request):
        serializer = RefreshRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = tokens.token_refresh(refresh=serializer.validated_data["refresh"])
        return Response(TokenPairSerializer(pair).data)


class LogoutApi(PublicApi):
    @swagger_auto_schema(
        operation_id="auth_logout",
        operation_summary="Revoke a refresh token (access tokens expire on their own within minutes)",
        request_body=RefreshRequestSerializer,
        security=[],
        responses={
            204: "Logged out.",
            400: error_response("Malformed body.", *BAD_BODY_CODES),
            401: INVALID_TOKEN,
            **BODY_ERRORS,
            503: DATABASE_UNAVAILABLE,
        },
    )
    def post(self, request):
        serializer = RefreshRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens.token_revoke(refresh=serializer.validated_data["refresh"])
        return Response(status=204)

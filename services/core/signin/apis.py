"""POST /api/v1/auth/token/: trade the code for a JWT pair; the first sign-in creates the account and
may take an invite code."""

from drf_yasg.utils import swagger_auto_schema
from rest_framework.response import Response

from common.openapi import BAD_BODY_CODES, BODY_ERRORS, OTP_OR_DATABASE_UNAVAILABLE, too_many
from common.throttles import AuthIpThrottle
from signin import services
from signin.serializers import SignInRequestSerializer, SignInSerializer
from svckit.errors import TooManyRequests
from svckit.openapi import error_response
from svckit.otp import InvalidCode, TooManyAttempts
from svckit.phones import InvalidPhone
from users.apis.auth import PublicApi
from users.selectors import profile_get
from users.services import AccountDisabled


class AuthTokenApi(PublicApi):
    throttle_classes = [AuthIpThrottle]
    throttle_scope = "token"

    @swagger_auto_schema(
        operation_id="auth_token",
        operation_summary="Sign in with the code: the first sign-in creates the account (and takes an invite code)",
        request_body=SignInRequestSerializer,
        security=[],
        responses={
            200: SignInSerializer,
            400: error_response(
                "Wrong or expired code, bad phone or malformed body.",
                InvalidCode,
                InvalidPhone,
                *BAD_BODY_CODES,
                details={"attempts_left": 4},
            ),
            403: error_response("The account is disabled.", AccountDisabled),
            **BODY_ERRORS,
            429: too_many(
                "Too many wrong codes: the code is burned (details.scope: code; request a new one) or the "
                "phone's daily failure budget is spent (details.scope: phone; every guess refused until "
                "Retry-After), or too many requests.",
                TooManyAttempts,
                TooManyRequests,
            ),
            503: OTP_OR_DATABASE_UNAVAILABLE,
        },
    )
    def post(self, request):
        serializer = SignInRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signed_in = services.auth_token_sign_in(**serializer.validated_data)
        body = {
            "access": signed_in.access,
            "refresh": signed_in.refresh,
            "is_new_user": signed_in.is_new_user,
            "invite_applied": signed_in.invite_applied,
            "invite_error": signed_in.invite_error.code if signed_in.invite_error else None,
            "profile": profile_get(user=signed_in.user),
        }
        return Response(SignInSerializer(body, context={"request": request}).data)

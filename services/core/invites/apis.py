from django.http import HttpResponse
from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from common.links import invite_url
from common.openapi import BAD_BODY_CODES, BODY_ERRORS, DATABASE_UNAVAILABLE, THROTTLED, UNAUTHORIZED
from common.renderers import SvgRenderer
from common.throttles import InviteUserThrottle
from invites.errors import InviteAlreadyActivated, InviteCodeNotFound, OwnInviteCode, ReferralCycle
from invites.qr import invite_qr_svg
from invites.serializers import InviteActivateSerializer
from invites.services import invite_activate
from svckit.errors import DatabaseUnavailable, ServiceUnavailable
from svckit.openapi import error_response
from users.invite_codes import InvalidInviteCode
from users.selectors import profile_get
from users.serializers import ProfileSerializer


class InviteActivateApi(APIView):
    throttle_classes = [InviteUserThrottle]

    @swagger_auto_schema(
        operation_id="profile_invite",
        operation_summary="Activate someone's invite code (once per user, ever)",
        request_body=InviteActivateSerializer,
        responses={
            200: ProfileSerializer,
            400: error_response(
                "Not a code, my own code, or a code of someone I invited (directly or through others).",
                InvalidInviteCode,
                OwnInviteCode,
                ReferralCycle,
                *BAD_BODY_CODES,
            ),
            401: UNAUTHORIZED,
            404: error_response("No one has this code.", InviteCodeNotFound),
            409: error_response("I have already activated a code.", InviteAlreadyActivated),
            **BODY_ERRORS,
            429: THROTTLED,
            503: error_response(
                "The database cannot be reached, or concurrent activations kept moving the code's tree; try again.",
                DatabaseUnavailable,
                ServiceUnavailable,
            ),
        },
    )
    def post(self, request):
        serializer = InviteActivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = invite_activate(user=request.user, invite_code=serializer.validated_data["invite_code"])
        return Response(ProfileSerializer(profile_get(user=user), context={"request": request}).data)


class InviteQrApi(APIView):
    renderer_classes = [JSONRenderer, SvgRenderer]  # SVG on success; errors stay the JSON envelope

    @swagger_auto_schema(
        operation_id="profile_invite_qr",
        operation_summary="The QR code of my share link (invite_url), as an SVG image",
        responses={
            200: openapi.Response(
                "image/svg+xml: black on white, 4 px per module", openapi.Schema(type=openapi.TYPE_FILE)
            ),
            401: UNAUTHORIZED,
            503: DATABASE_UNAVAILABLE,
        },
    )
    def get(self, request):
        url = invite_url(invite_code=request.user.invite_code, request=request)
        svg = invite_qr_svg(url=url, title=url)
        response = HttpResponse(svg, content_type="image/svg+xml")
        response["Cache-Control"] = "private, max-age=3600"
        return response

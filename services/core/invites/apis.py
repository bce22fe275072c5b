from drf_yasg.utils import swagger_auto_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from common.openapi import BAD_BODY_CODES, BODY_ERRORS, THROTTLED, UNAUTHORIZED
from common.throttles import InviteUserThrottle
from invites.serializers import InviteActivateSerializer
from invites.services import invite_activate
from svckit.openapi import error_response
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
                "invalid_invite_code",
                "own_invite_code",
                "referral_cycle",
                *BAD_BODY_CODES,
            ),
            401: UNAUTHORIZED,
            404: error_response("No one has this code.", "invite_code_not_found"),
            409: error_response("I have already activated a code.", "invite_already_activated"),
            **BODY_ERRORS,
            429: THROTTLED,
            503: error_response(
                "The database cannot be reached, or concurrent activations kept moving the code's tree; try again.",
                "database_unavailable",
                "unavailable",
            ),
        },
    )
    def post(self, request):
        serializer = InviteActivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = invite_activate(user=request.user, invite_code=serializer.validated_data["invite_code"])
        return Response(ProfileSerializer(profile_get(user=user)).data)

"""The signed-in user's profile, their referrals per day, and the full list of their referrals."""

from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from common.openapi import DATABASE_UNAVAILABLE, UNAUTHORIZED
from common.renderers import CsvRenderer
from svckit.openapi import error_response
from users.exports import referrals_csv_response
from users.selectors import profile_get, referrals_page
from users.serializers import (
    ProfileSerializer,
    ReferralsPageSerializer,
    ReferralsQuerySerializer,
    ReferralStatsSerializer,
    StatsQuerySerializer,
)
from users.stats import InvalidTimezone, referrals_stats


class ProfileApi(APIView):
    @swagger_auto_schema(
        operation_id="profile_get",
        operation_summary="My profile: my invite code, the code I activated, my newest referrals",
        responses={200: ProfileSerializer, 401: UNAUTHORIZED, 503: DATABASE_UNAVAILABLE},
    )
    def get(self, request):
        return Response(ProfileSerializer(profile_get(user=request.user), context={"request": request}).data)


class StatsApi(APIView):
    @swagger_auto_schema(
        operation_id="profile_stats",
        operation_summary="My referrals per day for the last 30 days, the days in my time zone (?tz=)",
        query_serializer=StatsQuerySerializer,
        responses={
            200: ReferralStatsSerializer,
            400: error_response("Not an IANA time zone name (e.g. Europe/Moscow).", InvalidTimezone),
            401: UNAUTHORIZED,
            503: DATABASE_UNAVAILABLE,
        },
    )
    def get(self, request):
        query = StatsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        stats = referrals_stats(user=request.user, zone=query.validated_data["tz"])
        return Response(ReferralStatsSerializer(stats).data)


class ReferralsApi(APIView):
    @swagger_auto_schema(
        operation_id="profile_referrals",
        operation_summary="Everyone who activated my code, newest first, page by page (follow `next`)",
        query_serializer=ReferralsQuerySerializer,
        responses={
            200: ReferralsPageSerializer,
            400: error_response("A bad cursor or limit.", "invalid_cursor", "validation_error"),
            401: UNAUTHORIZED,
            503: DATABASE_UNAVAILABLE,
        },
    )
    def get(self, request):
        # A plain dict: DRF reads an empty form value (`?limit=`) as absent, the schema calls it a bad integer.
        query = ReferralsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = referrals_page(user=request.user, **query.validated_data)
        next_url = None
        if page.next_cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
        return Response(ReferralsPageSerializer({"results": page.results, "next": next_url}).data)


class ReferralsCsvApi(APIView):
    renderer_classes = [JSONRenderer, CsvRenderer]  # CSV on success; errors stay the JSON envelope

    @swagger_auto_schema(
        operation_id="profile_referrals_csv",
        operation_summary="Everyone who activated my code, as a CSV download (phone, activated_at), newest first",
        responses={
            200: openapi.Response(
                "text/csv; charset=utf-8, with a BOM: `phone,activated_at`, then a row per referral (E.164, ISO 8601)",
                openapi.Schema(type=openapi.TYPE_FILE),
            ),
            401: UNAUTHORIZED,
            503: DATABASE_UNAVAILABLE,
        },
    )
    def get(self, request):
        return referrals_csv_response(user=request.user)

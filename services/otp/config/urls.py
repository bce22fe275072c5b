from django.conf import settings
from django.urls import path, re_path
from django_prometheus.exports import ExportToDjangoView
from drf_yasg import openapi
from drf_yasg.views import get_schema_view
from rest_framework.permissions import AllowAny

from codes import apis

schema_view = get_schema_view(
    openapi.Info(
        title="OTP service (internal)",
        default_version="v1",
        description="One-time codes for phone sign-in. Every /v1/ call but the dev inbox needs "
        "`Authorization: Bearer <OTP_SERVICE_TOKEN>`.",
    ),
    public=True,
    permission_classes=[AllowAny],
    authentication_classes=[],
)

urlpatterns = [
    path("v1/codes/", apis.CodeSendApi.as_view(), name="codes-send"),
    path("v1/codes/verify/", apis.CodeVerifyApi.as_view(), name="codes-verify"),
    path("healthz", apis.healthz, name="healthz"),
    path("readyz", apis.readyz, name="readyz"),
    path("metrics", ExportToDjangoView, name="metrics"),
    re_path(r"^schema\.(?P<format>json|yaml)$", schema_view.without_ui(cache_timeout=0), name="schema"),
    path("docs/", schema_view.with_ui("swagger", cache_timeout=0), name="swagger-ui"),
]
if not settings.PRODUCTION:
    # The dev inbox (on with SMS_BACKEND=inbox) does not exist in production at all.
    urlpatterns += [
        path("v1/inbox/", apis.InboxApi.as_view(), name="inbox"),
        path("inbox/", apis.inbox_page, name="inbox-page"),
    ]

handler400 = "svckit.handlers.json_400"
handler403 = "svckit.handlers.json_403"
handler404 = "svckit.handlers.json_404"
handler500 = "svckit.handlers.json_500"

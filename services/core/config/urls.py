from django.contrib import admin
from django.urls import include, path, re_path
from drf_yasg import openapi
from drf_yasg.views import get_schema_view
from rest_framework.permissions import AllowAny

from config import health

schema_view = get_schema_view(
    openapi.Info(
        title="Referrals core API",
        default_version="v1",
        description="Phone sign-in with one-time codes, profiles, invite codes and referrals. Endpoints marked "
        "with a lock need `Authorization: Bearer <access>` from POST /api/v1/auth/token/. Every error is "
        '`{"error": {"code", "message", "details"}}`; 429 answers carry Retry-After.',
    ),
    public=True,
    permission_classes=[AllowAny],
    authentication_classes=[],
)

urlpatterns = [
    path("api/v1/", include("users.urls")),
    path("api/v1/", include("invites.urls")),
    path("api/v1/", include("signin.urls")),
    re_path(r"^api/schema\.(?P<format>json)$", schema_view.without_ui(cache_timeout=0), name="schema-json"),
    path("api/docs/", schema_view.with_ui("swagger", cache_timeout=0), name="swagger-ui"),
    path("api/redoc/", schema_view.with_ui("redoc", cache_timeout=0), name="redoc"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the pages' language switch
    path("", include("web.urls")),
]

# Errors outside DRF views answer in the JSON envelope too; 404 and 500 are HTML pages for the web
# pages and stay JSON under /api/ (web.handlers picks by path).
handler400 = "svckit.handlers.json_400"
handler403 = "svckit.handlers.json_403"
handler404 = "web.handlers.page_not_found"
handler500 = "web.handlers.server_error"

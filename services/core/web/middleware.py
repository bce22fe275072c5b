"""Content-Security-Policy for the web pages. They load only their own stylesheet and script (no
inline code, no CDN), so the browser may refuse everything else: an injected inline script, a
foreign script or form target, being framed."""

from __future__ import annotations

PAGES_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The admin and the API's docs (Swagger UI, ReDoc) bring inline scripts and styles of their own.
EXEMPT_PREFIXES = ("/admin/", "/api/")


class PagesContentSecurityPolicy:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html") and not request.path.startswith(EXEMPT_PREFIXES):
            response.setdefault("Content-Security-Policy", PAGES_POLICY)
        return response

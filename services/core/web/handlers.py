"""Error pages: HTML for the pages, the JSON error envelope for the API (and anything under /api/)."""

from __future__ import annotations

import sys

from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from svckit import handlers

API_PREFIX = "/api/"


def page_not_found(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return handlers.json_404(request, exception)
    return render(request, "web/404.html", status=404)


def server_error(request):
    """handler500. A lost or read-only database is a 503 "try again shortly" with Retry-After, not a
    500 (which means a bug)."""
    if request.path.startswith(API_PREFIX):
        return handlers.json_500(request)
    # No context: whatever failed may be what a context processor needs (the session, the user).
    error = handlers.error_for(sys.exc_info()[1])
    if error is not None and error.status == 503:
        response = HttpResponse(loader.get_template("web/503.html").render(), status=503)
        if error.retry_after is not None:
            response["Retry-After"] = str(error.retry_after)
        return response
    return HttpResponseServerError(loader.get_template("web/500.html").render())

"""Error pages: HTML for the pages, the JSON error envelope for the API (and anything under /api/)."""

from __future__ import annotations

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from svckit import errors

API_PREFIX = "/api/"


def page_not_found(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return errors.json_404(request, exception)
    return render(request, "web/404.html", status=404)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return errors.json_500(request)
    # No context: whatever failed may be what a context processor needs.
    return HttpResponseServerError(loader.get_template("web/500.html").render())

"""Renderers for endpoints whose success is a file (an SVG image, a CSV sheet).

The view answers success with a ready HttpResponse of that type. These renderers exist so content
negotiation accepts a client that asks for the file's type (`Accept: image/svg+xml`) instead of
refusing it with 406, and so the schema lists the type under `produces`; whatever they render is
an error, which stays the JSON envelope."""

from __future__ import annotations

from rest_framework.renderers import BaseRenderer, JSONRenderer


class _FileErrorsRenderer(BaseRenderer):
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class SvgRenderer(_FileErrorsRenderer):
    media_type = "image/svg+xml"
    format = "svg"


class CsvRenderer(_FileErrorsRenderer):
    media_type = "text/csv"
    format = "csv"

"""A JSON parser that answers 400 for deeply nested input instead of a 500.

`json` raises RecursionError, not ValueError, on a body like `[[[[…` a few thousand levels deep,
and DRF's JSONParser only turns ValueError into ParseError. (Oversized bodies are already
refused by Django's DATA_UPLOAD_MAX_MEMORY_SIZE check.)
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("JSON nested too deeply.")) from exc

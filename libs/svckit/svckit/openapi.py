"""drf-yasg helpers so every endpoint documents its error envelope with examples."""

from __future__ import annotations

from drf_yasg import openapi

from svckit.errors import ApplicationError

# An error class documents its own code; DRF's errors (validation_error, not_authenticated...) are named.
Code = str | type[ApplicationError]


def _codes(codes: tuple[Code, ...]) -> list[str]:
    return [code if isinstance(code, str) else code.code for code in codes]


ERROR_SCHEMA = openapi.Schema(
    type=openapi.TYPE_OBJECT,
    required=["error"],
    properties={
        "error": openapi.Schema(
            type=openapi.TYPE_OBJECT,
            required=["code", "message", "details"],
            properties={
                "code": openapi.Schema(type=openapi.TYPE_STRING),
                "message": openapi.Schema(type=openapi.TYPE_STRING),
                "details": openapi.Schema(type=openapi.TYPE_OBJECT, additional_properties=True),
            },
        )
    },
)


def error_response(
    description: str, *errors: Code, details: dict | None = None, headers: dict | None = None
) -> openapi.Response:
    """A documented error answer (with `headers`, name → schema, when given); the example shows the first code."""
    codes = _codes(errors)
    example = {"error": {"code": codes[0], "message": description, "details": details or {}}}
    return openapi.Response(
        description=f"{description} Codes: {', '.join(codes)}.",
        schema=ERROR_SCHEMA,
        headers=headers,
        examples={"application/json": example},
    )


RETRY_AFTER = {"Retry-After": openapi.Schema(type=openapi.TYPE_INTEGER, description="Seconds to wait")}


def too_many(description: str, *errors: Code) -> openapi.Response:
    """A 429 answer: the error envelope plus the Retry-After header."""
    codes = _codes(errors)
    return openapi.Response(
        f"{description} Codes: {', '.join(codes)}.",
        schema=ERROR_SCHEMA,
        headers=RETRY_AFTER,
        examples={"application/json": {"error": {"code": codes[0], "message": description, "details": {}}}},
    )

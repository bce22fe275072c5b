"""Every error message has its Russian string in web/locale (compiled into the .mo the service reads):
each ApplicationError subclass's message and page message, the counted human messages, and the
messages the shared handlers build. A new error without a translation fails here."""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
from collections.abc import Iterator

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.test import RequestFactory
from django.utils import translation
from rest_framework import exceptions as drf

from svckit.errors import ApplicationError, TooManyRequests
from svckit.handlers import error_for, json_400
from svckit.otp import InvalidCode, TooManyFailures
from svckit.parsers import JSONParser

# The core's packages and the shared runtime: everything whose errors reach the core's clients
# (the OTP service's own error module re-exports svckit.otp's classes).
PACKAGES = ["common", "config", "integrations", "invites", "signin", "users", "web", "webhooks", "svckit"]


SKIPPED = (".tests", ".migrations", ".management", "config.wsgi")


def _import_everything() -> None:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for found in pkgutil.walk_packages(module.__path__, f"{package}."):
            if not any(part in found.name for part in SKIPPED):
                importlib.import_module(found.name)


def _subclasses(cls: type[ApplicationError]) -> Iterator[type[ApplicationError]]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


_import_everything()
FOUND: set[type[ApplicationError]] = {ApplicationError, *_subclasses(ApplicationError)}
ERRORS = sorted(FOUND, key=lambda error: f"{error.__module__}.{error.__name__}")
DECLARED = [
    (error, attribute)
    for error in ERRORS
    for attribute in ("message", "page_message")
    if error.__dict__.get(attribute) is not None
]


def _in(language: str, text) -> str:
    with translation.override(language):
        return str(text)


def test_every_error_module_was_found():
    names = {error.__name__ for error in ERRORS}
    assert {"InvalidToken", "NotNewAccount", "InvalidCursor", "OtpUnavailable", "AccountDisabled"} <= names
    assert {"TooManyFailures", "UnsupportedCountry", "DatabaseUnavailable", "InternalError"} <= names


@pytest.mark.parametrize(("error", "attribute"), DECLARED, ids=lambda v: getattr(v, "__name__", v))
def test_each_declared_message_has_its_russian_string(error, attribute):
    text = error.__dict__[attribute]
    assert _in("ru", text) != _in("en", text), f"{error.__module__}.{error.__name__}.{attribute}: {_in('en', text)!r}"


@pytest.mark.parametrize(
    "error",
    [
        *(error() for error in ERRORS),
        TooManyRequests(retry_after=5),
        TooManyRequests(retry_after=1),
        InvalidCode(details={"attempts_left": 0}),
        InvalidCode(details={"attempts_left": 1}),
        InvalidCode(details={"attempts_left": 3}),
        TooManyFailures(retry_after=7200),
    ],
    ids=lambda error: f"{type(error).__name__}-{error.details or error.retry_after or ''}",
)
def test_each_human_message_is_russian_on_a_russian_page(error):
    with translation.override("en"):
        english = error.human_message()
    with translation.override("ru"):
        russian = error.human_message()
    assert russian != english, f"{type(error).__name__}: {english!r}"


@pytest.mark.parametrize(
    "exc", [RequestDataTooBig(), TooManyFieldsSent(), drf.ValidationError({"phone": ["nope"]})], ids=repr
)
def test_the_handlers_own_messages_are_russian(exc):
    error = error_for(exc)
    assert error is not None
    assert _in("ru", error.message) != _in("en", error.message)


def test_a_bad_request_and_too_deep_json_are_russian():
    with translation.override("ru"):
        assert json.loads(json_400(RequestFactory().get("/")).content)["error"]["message"] == "Некорректный запрос."
        with pytest.raises(drf.ParseError) as caught:
            JSONParser().parse(io.BytesIO(b"[" * 100_000), "application/json", {})
        assert str(caught.value.detail) == "Слишком глубокая вложенность JSON."

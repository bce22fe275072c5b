"""A lost database connection is a 503 that says so, in JSON for the API and as a page for the
pages: never a stack trace, never a 500 (which means a bug). The real outage, through granian and
a cut connection, is in tests/test_faults.py."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import DatabaseError, InterfaceError, OperationalError, ProgrammingError, connection, transaction
from django.test import Client

from svckit.database import database_unavailable, sqlstate

PROFILE_URL = "/api/v1/profile/"


def _database_down(*args, **kwargs):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("closed")])
def test_the_api_answers_503_database_unavailable(user_api, monkeypatch, error):
    def fail(**kwargs):
        raise error

    monkeypatch.setattr("users.apis.profile.profile_get", fail)
    response = user_api.get(PROFILE_URL)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {
            "code": "database_unavailable",
            "message": "The database is unavailable. Try again shortly.",
            "details": {},
        }
    }


def test_the_api_answers_503_when_authentication_cannot_reach_the_database(user_api, monkeypatch):
    monkeypatch.setattr("rest_framework_simplejwt.authentication.JWTAuthentication.get_user", _database_down)
    response = user_api.get(PROFILE_URL)
    assert (response.status_code, response.json()["error"]["code"]) == (503, "database_unavailable")


def test_a_bug_in_a_query_is_still_a_500(user_api, monkeypatch):
    def fail(**kwargs):
        raise ProgrammingError('relation "users_user" does not exist')

    monkeypatch.setattr("users.apis.profile.profile_get", fail)
    user_api.raise_request_exception = False
    response = user_api.get(PROFILE_URL)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "users_user" not in response.content.decode()


@pytest.fixture
def page_client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_a_page_answers_an_html_503(page_client, monkeypatch):
    monkeypatch.setattr("web.views.selectors.profile_get", _database_down)
    response = page_client.get("/profile/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    assert "Traceback" not in body and "5432" not in body


def test_a_page_answers_503_when_the_session_cannot_be_read(page_client, monkeypatch):
    monkeypatch.setattr(SessionStore, "load", _database_down)
    response = page_client.get("/profile/")  # who is signed in: the session, in the database
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()


def _raised_by_postgres(*statements: str) -> DatabaseError:
    """The error PostgreSQL itself gives for the last of `statements`, as Django wraps it."""
    with pytest.raises(DatabaseError) as raised, transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            try:
                cursor.execute(statement)
            except DatabaseError:
                if statement is statements[-1]:
                    raise
    return raised.value


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("statements", "code", "unavailable"),
    [
        (("SET TRANSACTION READ ONLY", "CREATE TEMP TABLE t (x int)"), "25006", True),  # psycopg2: InternalError
        (("SELECT * FROM no_such_table",), "42P01", False),
        (("SELECT 1/0", "SELECT 1"), "25P02", False),  # an error swallowed inside a transaction: a bug
    ],
)
def test_what_postgres_says_decides_between_503_and_500(statements, code, unavailable):
    error = _raised_by_postgres(*statements)
    assert sqlstate(error) == code
    assert database_unavailable(error) is unavailable


def test_a_shutdown_or_a_server_not_yet_accepting_connections_is_unavailable():
    """57P0x arrive as OperationalError from psycopg2; told by SQLSTATE alone they are still 503."""
    for code in ("57P01", "57P02", "57P03"):
        error = DatabaseError("terminating connection due to administrator command")
        error.pgcode = code  # type: ignore[attr-defined]  # what psycopg2 sets
        assert database_unavailable(error)

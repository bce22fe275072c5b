import copy
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from integrations.tests.fake_otp import FakeOtp
from users.models import User
from users.tests.factories import UserFactory, client_for


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: starts its own OTP, core, Redis or proxy processes (slower)")


@pytest.fixture(scope="session", autouse=True)
def _test_settings():
    """This run's throttle counters live under their own key prefix, removed at the end."""
    caches = copy.deepcopy(django_settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"core-test-{uuid.uuid4().hex}"
    caches["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] = False  # a test must see Redis failing
    # Tests create staff users; the production hasher's deliberate slowness buys nothing here.
    fast_hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(CACHES=caches, PASSWORD_HASHERS=fast_hashers):
        yield
        cache.delete_pattern("*")  # type: ignore[attr-defined]  # django-redis


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.delete_pattern("*")  # type: ignore[attr-defined]  # django-redis
    yield


@pytest.fixture(scope="session")
def test_database_url(django_db_setup):
    """database_url(port=None, application_name="") → a DATABASE_URL for this run's test database
    (through a proxy on `port` when given), for the processes a test starts."""
    db = connection.settings_dict

    def database_url(*, port: int | None = None, application_name: str = "") -> str:
        query = f"?application_name={application_name}" if application_name else ""
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host, port = db.get("HOST") or "127.0.0.1", port or db.get("PORT") or 5432
        return f"postgres://{db.get('USER') or 'postgres'}{password}@{host}:{port}/{db['NAME']}{query}"

    return database_url


@pytest.fixture
def fake_otp(settings):
    with FakeOtp() as fake:
        settings.OTP_SERVICE_URL = fake.url
        yield fake


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def user(db) -> User:
    return UserFactory()


@pytest.fixture
def user_api(user) -> APIClient:
    return client_for(user)


class ReadOnlyDatabase:
    """This run's test database, made read-only for every new connection as a primary demoted to a
    replica is for the connections a failover moves onto it (writes fail with SQLSTATE 25006)."""

    def __init__(self) -> None:
        self.name = connection.settings_dict["NAME"]

    def on(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{self.name}" SET default_transaction_read_only = on')
        connection.close()  # the test's own next query, and the test client's, connect read-only

    def off(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")  # this session only, to run the ALTER
            cursor.execute(f'ALTER DATABASE "{self.name}" RESET default_transaction_read_only')
        connection.close()


@pytest.fixture
def read_only_database(transactional_db):
    """`on()` / `off()`; always read-write again after the test, whatever it left it as."""
    database = ReadOnlyDatabase()
    try:
        yield database
    finally:
        database.off()

"""Settings of the OTP service's tests (DJANGO_SETTINGS_MODULE in pyproject.toml): the service's own,
with every Redis key of the run under a prefix of its own (codes and Celery broker alike, removed
at the end by the conftest) and its own service token."""

import uuid

from config.settings import *  # noqa: F403
from config.settings import CELERY_BROKER_TRANSPORT_OPTIONS

TEST_RUN_ID = uuid.uuid4().hex[:10]
OTP_KEY_PREFIX = f"otp-test-{TEST_RUN_ID}:"
OTP_SERVICE_TOKEN = f"test-token-{TEST_RUN_ID}"
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "global_keyprefix": f"celery-test-{TEST_RUN_ID}:"}
# The SMS-pumping guard would count every code a run sends, many to one number block: its own
# tests (test_sms_guard.py) set its limits, and the core's abuse tests run it with the defaults.
SMS_COUNTRY_MAX_PER_DAY = SMS_MAX_PER_DAY = 1_000_000
SMS_PREFIX_MAX_PER_HOUR = SMS_GUARD_MIN_SENDS = 1_000_000

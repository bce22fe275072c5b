"""The Celery settings each service ends up with (svckit.settings.celery_settings plus its own values),
read in a fresh interpreter with no *CELERY_* variables: the defaults its worker's timing was set for."""

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import celery.app.utils
import pytest

from svckit.settings import CELERY_ENVIRONMENT_OVERRIDES

SERVICES_DIR = Path(__file__).resolve().parents[2]
PRINT_CELERY = (
    "import json, config.settings as s; print(json.dumps({k: getattr(s, k) for k in dir(s) if k[:7] == 'CELERY_'}))"
)
SOCKETS = {"global_keyprefix": "", "socket_timeout": 2, "socket_connect_timeout": 1}
BOTH = {
    "CELERY_BROKER_TRANSPORT": "svckit.broker:Transport",
    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
    "CELERY_TASK_SERIALIZER": "json",
    "CELERY_ACCEPT_CONTENT": ["json"],
    "CELERY_TASK_IGNORE_RESULT": True,
    "CELERY_RESULT_BACKEND": None,
    "CELERY_TASK_ACKS_LATE": True,
    "CELERY_TASK_REJECT_ON_WORKER_LOST": True,
    "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
}
OWN = {
    # No countdowns: webhook tries are scheduled in PostgreSQL, the worker only hosts the dispatcher.
    "core": {
        "CELERY_BROKER_URL": "redis://r:6379/3",
        "CELERY_BROKER_TRANSPORT_OPTIONS": {"visibility_timeout": 60, **SOCKETS},
        "CELERY_TASK_PUBLISH_RETRY_POLICY": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
    },
    # SMS delivery: a 2 s countdown, and a lost message sent again within seconds.
    "otp": {
        "CELERY_BROKER_URL": "redis://r:6379/1",
        "CELERY_BROKER_TRANSPORT_OPTIONS": {
            "visibility_timeout": 30,
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
            **SOCKETS,
        },
        "CELERY_TASK_PUBLISH_RETRY_POLICY": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
    },
}


@pytest.mark.parametrize("service", sorted(OWN))
def test_celery_settings_are_the_services_own(service):
    env = {k: v for k, v in os.environ.items() if "CELERY_" not in k} | {"REDIS_URL": "redis://r:6379"}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_CELERY], cwd=SERVICES_DIR / service, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == BOTH | OWN[service]


# Celery's own environment lookups, set to a broker neither service uses: the one compose's shared
# .env would hand both services if it named CELERY_BROKER_URL.
ELSEWHERE = "redis://elsewhere:6379/9"
PRINT_BROKERS = """
import json
from config.celery import app
with app.connection_for_write() as write, app.connection_for_read() as read:
    urls = [f"redis://{c.hostname}:{c.port}/{c.virtual_host}" for c in (write, read)]
print(json.dumps({"broker_url": app.conf.broker_url, "read": app.conf.broker_read_url,
                  "write": app.conf.broker_write_url, "result_backend": app.conf.result_backend, "connections": urls}))
"""


@pytest.mark.parametrize(("service", "own"), [("core", "CORE_CELERY_BROKER_URL"), ("otp", "OTP_CELERY_BROKER_URL")])
def test_each_celery_app_takes_its_broker_from_its_own_setting_only(service, own):
    env = {k: v for k, v in os.environ.items() if "CELERY_" not in k}
    env |= dict.fromkeys(CELERY_ENVIRONMENT_OVERRIDES, ELSEWHERE) | {own: f"redis://{service}-broker:6379/4"}
    result = subprocess.run(
        [sys.executable, "-c", PRINT_BROKERS], cwd=SERVICES_DIR / service, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    mine = f"redis://{service}-broker:6379/4"
    assert json.loads(result.stdout) == {
        "broker_url": mine,
        "read": mine,
        "write": mine,
        "result_backend": None,
        "connections": [mine, mine],
    }


def test_the_environment_lookups_ignored_are_all_that_celery_makes():
    """svckit.settings drops exactly the variables Celery's Settings read over the app's settings:
    an upgrade that adds or renames one fails here."""
    source = inspect.getsource(celery.app.utils.Settings)
    assert set(re.findall(r"os\.environ\.get\(\s*['\"](\w+)['\"]", source)) == set(CELERY_ENVIRONMENT_OVERRIDES)

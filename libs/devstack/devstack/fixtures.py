"""pytest fixtures over the declaration for both services' tests (`-p devstack.fixtures` in their
addopts): private Redis servers, and stacks started for one test and stopped after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

import pytest

from devstack.declaration import Config
from devstack.servers import PrivateRedis
from devstack.stack import Stack

SHARED_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
FAST_SMS = {"SMS_DELAY_MIN_SECONDS": "0.05", "SMS_DELAY_MAX_SECONDS": "0.1", "OTP_WORKER_CONCURRENCY": "4"}


def stack_config(owner: str, **fields: Any) -> Config:
    """A test's stack: free ports, the shared Redis unless `redis_url` is given, every key under
    `<owner>-test-<run>:` (removed when it stops), its own service token, quiet development settings."""
    run = uuid.uuid4().hex[:12]
    env = {"APP_ENV": "development", "LOG_LEVEL": "WARNING", "ACCESS_LOG": "/dev/null", "OTP_WEB_WORKERS": "1"}
    defaults = {"redis_url": SHARED_REDIS_URL, "prefix": f"{owner}-test-{run}:", "token": f"test-token-{run}"}
    return Config(**{**defaults, **fields, "env": {**env, **fields.get("env", {})}})


@pytest.fixture
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    """A throwaway redis-server for one test (`url`; `stop()` and `start()` it on the same port)."""
    with PrivateRedis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def persistent_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    """As private_redis, with an append-only file: its data survives a restart, as compose's does."""
    with PrivateRedis(tmp_path_factory.mktemp("redis"), appendonly=True) as server:
        yield server


@pytest.fixture
def start_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """start_stack(config, *names) → those processes (the four when none is named) started and
    ready; stopped after the test, their Redis keys forgotten. Logs: a new directory in tmp_path."""
    with ExitStack() as stacks:
        yield lambda config, *names: stacks.enter_context(Stack(config, names, logs=Path(mkdtemp(dir=tmp_path))))

"""The Lua scripts take their constants from codes.store.SCRIPT_CONSTANTS, one source: no window
length or wait is written into a script, and the script Redis runs holds the Python value."""

from __future__ import annotations

import re

from codes import store
from svckit import sliding_window

SCRIPTS = {
    name: value
    for name, value in vars(store).items()
    if name.startswith("_") and isinstance(value, str) and "redis.call" in value
}


def test_no_script_writes_a_constant_of_its_own():
    assert len(SCRIPTS) >= 9, sorted(SCRIPTS)
    for name, source in SCRIPTS.items():
        own = source.replace(sliding_window.LIBRARY, "")
        assert not re.findall(r"(?<![\w\[])\d{3,}", own), name
        assert set(re.findall(r"\$(\w+)", own)) <= set(store.SCRIPT_CONSTANTS), name


def test_redis_runs_the_scripts_with_the_python_values():
    for name, source in SCRIPTS.items():
        loaded = store._script(source).script
        assert "$" not in loaded, name
        for constant, value in store.SCRIPT_CONSTANTS.items():
            if f"${constant}" in source:
                assert f"{value}" in loaded, (name, constant)

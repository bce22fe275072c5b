"""One Redis command as a client in a service's container would send it, for `make compose-smoke`
(fed to `python -` inside the container). Prints the outcome as JSON: {"value": ...} or
{"error": exception class, "message": Redis' error text}.

    python - COMMAND ARG...   with the credentials of the container's REDIS_URL, or of
                              REDIS_PROBE_USER / REDIS_PROBE_PASSWORD when set; with
                              REDIS_PROBE_USER=anonymous, none at all.
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import urlsplit

import redis


def plain(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, list | tuple | set):
        return [plain(item) for item in value]
    if isinstance(value, dict):  # RESP3 maps, e.g. ACL LOG's entries
        return {plain(key): plain(item) for key, item in value.items()}
    return value


def main() -> None:
    url = urlsplit(os.environ["REDIS_URL"])
    username = os.environ.get("REDIS_PROBE_USER", url.username)
    password = os.environ.get("REDIS_PROBE_PASSWORD", url.password)
    if username == "anonymous":
        username = password = None
    client = redis.Redis(host=url.hostname, port=url.port or 6379, username=username, password=password)
    try:
        outcome = {"value": plain(client.execute_command(*sys.argv[1:]))}
    except redis.RedisError as exc:
        outcome = {"error": type(exc).__name__, "message": str(exc)}
    print(json.dumps(outcome))


main()

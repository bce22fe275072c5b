"""svckit overrides two libraries' internals; these tests fail when an upgrade changes what it relies on.

- svckit.broker.Channel.conn_or_acquire replaces kombu's, which builds a new redis.Redis for every
  publish and ack: ours keeps one client per channel until kombu replaces the channel's pool.
- svckit.http_metrics.RequestMetrics replaces django-prometheus's After middleware's hooks with two
  series per request, and inherits its exception hook.

Each pin is the source of an upstream method the patch replaces or leans on, as of the version the
locks install. When one fails: read the new source against the patch, re-measure (bench/README.md
says how it was measured), then record the new hash, or drop the patch if the library now does the
same. The behaviour tests check what the patch assumes, against the real Redis."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import inspect
import textwrap
import threading
import uuid

import pytest
import redis
from django.test import RequestFactory
from django.urls import resolve
from django_prometheus.middleware import PrometheusAfterMiddleware
from kombu import Connection
from kombu.transport import redis as kombu_redis
from prometheus_client import REGISTRY

from config.celery import app as celery_app
from svckit import broker
from svckit.http_metrics import RequestMetrics

# (distribution, "module:Class.attribute", sha256 of the dedented source, first 16 hex digits)
PINS = [
    ("kombu", "kombu.transport.redis:Channel.conn_or_acquire", "01ab44dd770603a6"),
    ("kombu", "kombu.transport.redis:Channel._create_client", "376ef74d24a41659"),
    ("kombu", "kombu.transport.redis:Channel.pool", "21755a780d16f22f"),
    ("kombu", "kombu.transport.redis:Channel._disconnect_pools", "d4a0636e51ad6352"),
    ("django-prometheus", "django_prometheus.middleware:PrometheusAfterMiddleware.__init__", "0fdc3eabfe94c5e0"),
    ("django-prometheus", "django_prometheus.middleware:PrometheusAfterMiddleware.process_request", "b6408f1e79e76b5a"),
    ("django-prometheus", "django_prometheus.middleware:PrometheusAfterMiddleware.process_view", "04bb3ce0bc28db79"),
    (
        "django-prometheus",
        "django_prometheus.middleware:PrometheusAfterMiddleware.process_template_response",
        "3b2408ef3fcebc23",
    ),
    (
        "django-prometheus",
        "django_prometheus.middleware:PrometheusAfterMiddleware.process_response",
        "cbd80a14630b1950",
    ),
    (
        "django-prometheus",
        "django_prometheus.middleware:PrometheusAfterMiddleware.process_exception",
        "ac76a08625dbb1f8",
    ),
    ("django-prometheus", "django_prometheus.middleware:PrometheusAfterMiddleware._get_view_name", "5db11385c158ab0c"),
    ("django-prometheus", "django_prometheus.middleware:PrometheusAfterMiddleware._method", "9be1dcaf62cb7cc5"),
    ("django-prometheus", "django_prometheus.utils:Time", "62915b72a6d0fd0c"),
    ("django-prometheus", "django_prometheus.utils:TimeSince", "ec4ee5165280d937"),
]
BROKER_URL = celery_app.conf.broker_url
PINNED_AT = {"kombu": "5.7.0", "django-prometheus": "2.5.0"}


def _resolve(target: str):
    module_name, _, path = target.partition(":")
    found = importlib.import_module(module_name)
    for name in path.split("."):
        found = getattr(found, name)
    return found.fget if isinstance(found, property) else found


def _source_hash(obj) -> str:
    return hashlib.sha256(textwrap.dedent(inspect.getsource(obj)).encode()).hexdigest()[:16]


@pytest.mark.parametrize(("distribution", "target", "pinned"), PINS, ids=[pin[1].split(":")[1] for pin in PINS])
def test_the_upstream_source_a_patch_relies_on_is_unchanged(distribution, target, pinned):
    installed = importlib.metadata.version(distribution)
    assert _source_hash(_resolve(target)) == pinned, (
        f"{target} changed between {distribution} {PINNED_AT[distribution]} and {installed}: check the patch "
        "against it (module docstring), then record the new hash"
    )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (broker.Channel.conn_or_acquire, kombu_redis.Channel.conn_or_acquire),
        *(
            (getattr(RequestMetrics, name), getattr(PrometheusAfterMiddleware, name))
            for name in ("process_request", "process_view", "process_template_response", "process_response")
        ),
    ],
    ids=lambda method: method.__qualname__,
)
def test_each_override_takes_what_the_library_passes(ours, theirs):
    assert inspect.signature(ours).parameters.keys() == inspect.signature(theirs).parameters.keys()


# --- svckit.broker ---------------------------------------------------------------------------


@pytest.fixture
def broker_connection():
    """A (transport name → kombu Connection) opener on the core's broker Redis, under a key prefix
    of this test's own, removed afterwards."""
    prefix = f"patch-test-{uuid.uuid4().hex}:"
    opened: list[Connection] = []

    def open_connection(transport: str) -> Connection:
        connection = Connection(BROKER_URL, transport=transport, transport_options={"global_keyprefix": prefix})
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        connection.release()
    # A plain client: kombu's would put its prefix before the pattern again.
    with redis.Redis.from_url(BROKER_URL) as client:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def test_kombu_still_builds_a_client_per_call_which_is_what_the_patch_saves(broker_connection):
    """If this fails, kombu keeps a client of its own now: svckit.broker can go."""
    channel = broker_connection("redis").default_channel
    with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
        assert first is not second
        assert first.connection_pool is second.connection_pool is channel.pool


def test_publishing_through_the_patched_channel_builds_no_client_per_message(broker_connection, monkeypatch):
    built = []
    original = broker.Channel._create_client

    def counting(self, *args, **kwargs):
        built.append(kwargs.get("asynchronous", args[0] if args else False))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(broker.Channel, "_create_client", counting)
    connection = broker_connection("svckit.broker:Transport")
    with connection.SimpleQueue(f"patch-test-{uuid.uuid4().hex}") as simple:
        for n in range(20):
            simple.put({"n": n})
        received = [simple.get(timeout=2) for _ in range(20)]
        for message in received:
            message.ack()
    assert [message.payload["n"] for message in received] == list(range(20))
    # kombu's own method builds about 80 here.
    assert built.count(False) <= 1, f"{len(built)} clients: kombu no longer goes through conn_or_acquire"


def test_a_given_client_is_passed_through_and_a_replaced_pool_gets_a_new_client(broker_connection):
    channel = broker_connection("svckit.broker:Transport").default_channel
    assert isinstance(channel, broker.Channel)
    with channel.conn_or_acquire() as first, channel.conn_or_acquire() as again:
        assert first is again and first.ping()
    with channel.conn_or_acquire(client=first) as given:
        assert given is first
    channel._disconnect_pools()  # kombu after a fork or a lost connection: _pool is None, `pool` makes one
    with channel.conn_or_acquire() as renewed:
        assert renewed is not first and renewed.connection_pool is channel.pool and renewed.ping()


def test_one_redis_client_is_safe_across_threads(broker_connection):
    """The patch shares a client between kombu's callers: redis-py takes a pooled connection per
    command, so concurrent commands on one client neither interleave nor get lost."""
    channel = broker_connection("svckit.broker:Transport").default_channel
    key = f"{channel.global_keyprefix}counter"
    threads_count, rounds = 8, 100
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def count() -> None:
        try:
            barrier.wait()
            for _ in range(rounds):
                with channel.conn_or_acquire() as client:
                    client.incr(key)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=count) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with channel.conn_or_acquire() as client:
        assert int(client.get(key)) == threads_count * rounds


# --- svckit.http_metrics ---------------------------------------------------------------------

RESPONSES = "django_http_responses_total_by_status_view_method_total"
LATENCY = "django_http_requests_latency_seconds_by_view_method_count"
EXCEPTIONS = "django_http_exceptions_total_by_type_total"


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _request(method: str = "GET"):
    request = RequestFactory().generic(method, "/healthz")
    request.resolver_match = resolve("/healthz")
    return request


def test_a_response_is_counted_once_with_its_latency():
    from django.http import HttpResponse

    middleware = RequestMetrics(lambda request: HttpResponse(status=204))
    before = (
        _sample(RESPONSES, status="204", view="healthz", method="GET"),
        _sample(LATENCY, view="healthz", method="GET"),
    )
    middleware(_request())
    after = (
        _sample(RESPONSES, status="204", view="healthz", method="GET"),
        _sample(LATENCY, view="healthz", method="GET"),
    )
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


def test_an_unknown_method_is_one_label_not_a_new_series_per_method():
    from django.http import HttpResponse

    middleware = RequestMetrics(lambda request: HttpResponse())
    before = _sample(RESPONSES, status="200", view="healthz", method="<invalid method>")
    middleware(_request("BREW"))
    assert _sample(RESPONSES, status="200", view="healthz", method="<invalid method>") - before == 1
    assert REGISTRY.get_sample_value(RESPONSES, {"status": "200", "view": "healthz", "method": "BREW"}) is None


def test_the_inherited_exception_hook_finds_the_start_time_our_request_hook_sets():
    middleware = RequestMetrics(lambda request: None)
    request = _request()
    middleware.process_request(request)
    before = _sample(EXCEPTIONS, type="LookupError"), _sample(LATENCY, view="healthz", method="GET")
    middleware.process_exception(request, LookupError("boom"))
    after = _sample(EXCEPTIONS, type="LookupError"), _sample(LATENCY, view="healthz", method="GET")
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    unknown = REGISTRY.get_sample_value("django_http_requests_unknown_latency_total") or 0.0
    middleware.process_exception(request, LookupError("again"))
    assert (REGISTRY.get_sample_value("django_http_requests_unknown_latency_total") or 0.0) == unknown

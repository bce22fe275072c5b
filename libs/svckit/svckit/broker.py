"""Celery's Redis broker transport, with one Redis client per channel instead of one per command.

kombu's Redis channel builds a new `redis.Redis` object for every publish, ack and unacked-index
update (`Channel.conn_or_acquire`); the connections come from the channel's pool either way, but
redis-py's client constructor fills its response-callback table each time, and that was a fifth of
a publish's CPU. Here each channel keeps one client on its pool (a client is thread-safe; every
command takes a connection from the pool) and makes a new one only when kombu replaces the pool
(after a fork or a reconnect)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _pooled_client: redis.Redis | None = None

    @contextmanager
    def conn_or_acquire(self, client: redis.Redis | None = None) -> Iterator[redis.Redis]:
        if client:
            yield client
            return
        pooled = self._pooled_client
        if pooled is None or pooled.connection_pool is not self.pool:
            pooled = self._pooled_client = self._create_client()
        yield pooled


class Transport(kombu_redis.Transport):
    Channel = Channel


def broker_transport(url: str) -> str | None:
    """The transport for CELERY_BROKER_TRANSPORT: this module's for a plain `redis://` broker URL,
    None (kombu's choice by scheme) for any other, so `rediss://` keeps its TLS set-up."""
    return "svckit.broker:Transport" if url.startswith("redis://") else None

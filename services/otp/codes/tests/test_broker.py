"""The broker transport (svckit.broker): one Redis client per channel, renewed with its pool."""

from config.celery import app as celery_app
from svckit.broker import Channel, broker_transport


def test_a_channel_reuses_one_client_until_its_pool_is_replaced():
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        assert isinstance(channel, Channel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.ping()
        channel._disconnect_pools()  # what kombu does after a fork
        with channel.conn_or_acquire() as renewed:
            assert renewed is not first
            assert renewed.connection_pool is channel.pool
            assert renewed.ping()


def test_only_plain_redis_urls_get_the_transport():
    assert broker_transport("redis://127.0.0.1:6379/1") == "svckit.broker:Transport"
    assert broker_transport("rediss://redis.example:6380/1") is None

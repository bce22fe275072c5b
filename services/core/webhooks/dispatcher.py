"""The outbox's dispatcher: a loop in every core worker process (a Celery worker bootstep) that, each
WEBHOOK_DISPATCH_INTERVAL_SECONDS, gives every endpoint with due deliveries a lane of its own: a
thread that sends that endpoint's due rows one after another until none is left. A slow or dead
endpoint holds only its own lane, so it never delays another's deliveries.

Why a loop in each worker and not a Celery beat schedule: it needs nothing but PostgreSQL, so a Redis
outage or a killed worker delays nothing past the next tick once a worker runs, and any number of
replicas may run it at once (each claim is `FOR UPDATE SKIP LOCKED`): there is no single scheduler
to keep exactly one of.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from celery import bootsteps
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, connections

from webhooks.delivery import webhook_endpoint_deliver_next
from webhooks.selectors import webhook_endpoints_due

logger = logging.getLogger(__name__)

MAX_LANES = 16  # endpoints sent to at the same time by one process; WEBHOOK_URLS holds a handful


class WebhookDispatcher:
    """run() ticks until stop(); tick() alone is one pass (the tests drive it directly)."""

    def __init__(self, *, interval_seconds: float, lanes: int = MAX_LANES) -> None:
        self.interval_seconds = interval_seconds
        self.lanes = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="webhook-lane")
        self.running: dict[int, Future] = {}
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def tick(self) -> list[int]:
        """Start a lane for each endpoint with due deliveries that has none running; returns their ids."""
        close_old_connections()
        started = []
        for endpoint_id in webhook_endpoints_due():
            lane = self.running.get(endpoint_id)
            if lane is None or lane.done():
                self.running[endpoint_id] = self.lanes.submit(self._lane, endpoint_id)
                started.append(endpoint_id)
        return started

    def _lane(self, endpoint_id: int) -> int:
        sent = 0
        try:
            while not self.stopping.is_set() and webhook_endpoint_deliver_next(endpoint_id=endpoint_id):
                sent += 1
        except DatabaseError as exc:  # the next tick tries again: the rows keep their state
            logger.warning("webhook dispatcher: endpoint %s lane stopped: %s", endpoint_id, exc)
        except Exception:
            logger.exception("webhook dispatcher: endpoint %s lane failed", endpoint_id)
        finally:
            connections.close_all()  # this thread's: a lane runs only while there is work
        return sent

    def run(self) -> None:
        """Tick now, then every interval, until stop(); a database away is logged and waited out."""
        logger.info("webhook dispatcher started (every %g s)", self.interval_seconds)
        failing = False
        while not self.stopping.is_set():
            try:
                self.tick()
            except DatabaseError as exc:
                if not failing:  # once per outage, not once a tick
                    logger.warning("webhook dispatcher: database unavailable, trying every tick: %s", exc)
                failing = True
                connection.close()
            else:
                if failing:
                    logger.warning("webhook dispatcher: database back")
                failing = False
            self.stopping.wait(self.interval_seconds)
        connections.close_all()

    def start(self) -> WebhookDispatcher:
        """run() in a thread of its own."""
        self.thread = threading.Thread(target=self.run, name="webhook-dispatcher", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """No new tries; returns once the ones under way have ended (each within WEBHOOK_TIMEOUT_SECONDS)."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join()
        self.lanes.shutdown(wait=True, cancel_futures=True)


class WebhookDispatcherStep(bootsteps.StartStopStep):
    """The dispatcher in the core's Celery worker (config/celery.py adds it). It starts before the
    worker's broker consumer, which waits for Redis: delivery does not."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.dispatcher: WebhookDispatcher | None = None

    def start(self, parent) -> None:
        self.dispatcher = WebhookDispatcher(interval_seconds=settings.WEBHOOK_DISPATCH_INTERVAL_SECONDS).start()

    def stop(self, parent) -> None:
        if self.dispatcher is not None:
            self.dispatcher.stop()
            self.dispatcher = None

    shutdown = stop

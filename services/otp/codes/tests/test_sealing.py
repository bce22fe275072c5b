"""A sealed code opens only for the message it was sealed for. The attacker reaches Redis: they read
a victim's queued message and publish copies of it with their own phone, through the real broker
to a real worker; nothing reaches them, the victim still gets their one SMS, and the worker counts
each refusal in otp_sms_refused_total."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid

import pytest
import redis
import requests
from celery import Celery
from cryptography.fernet import Fernet
from devstack import wait_until
from devstack.inbox import messages as inbox_messages
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from werkzeug import Response

from codes import services, store
from codes.sealing import SealExpired, SealRefused, _fernet, seal, unseal
from codes.tests.test_providers import TWILIO_CREATED, TWILIO_PATH
from config.celery import app as celery_app

VICTIM, ATTACKER = "+79990001111", "+79990002222"


def _token(**changes: str) -> str:
    return seal(**{"message_id": "m-1", "phone": VICTIM, "code": "4821", **changes})


def test_a_sealed_code_opens_for_its_own_message():
    assert unseal(_token(), message_id="m-1", phone=VICTIM) == "4821"


@pytest.mark.parametrize(
    ("token", "message_id", "phone", "reason"),
    [
        (_token, "m-1", ATTACKER, "altered"),  # the victim's code, the attacker's phone
        (_token, "m-2", VICTIM, "altered"),  # replayed under a new message id
        (lambda: _token()[:-8], "m-1", VICTIM, "forged"),  # cut short
        (lambda: _token()[:-1] + ("A" if _token()[-1] != "A" else "B"), "m-1", VICTIM, "forged"),
        (lambda: Fernet(Fernet.generate_key()).encrypt(b'{"code":"4821"}').decode(), "m-1", VICTIM, "forged"),
        (lambda: "not-a-token", "m-1", VICTIM, "forged"),
        (lambda: "кот", "m-1", VICTIM, "forged"),
        (lambda: 4821, "m-1", VICTIM, "forged"),
        (lambda: _fernet().encrypt(b"[1, 2]").decode(), "m-1", VICTIM, "forged"),
        # Sealed by the previous release (the code alone), queued during the upgrade.
        (lambda: _fernet().encrypt(b"0482").decode(), "m-1", VICTIM, "old_format"),
    ],
)
def test_any_other_token_is_refused_with_its_reason(token, message_id, phone, reason):
    with pytest.raises(SealRefused) as refused:
        unseal(token(), message_id=message_id, phone=phone)
    assert refused.value.reason == reason


def test_a_token_older_than_the_code_is_expired(settings):
    payload = json.dumps({"message_id": "m-1", "phone": VICTIM, "code": "4821"}).encode()
    old = _fernet().encrypt_at_time(payload, int(time.time()) - settings.OTP_TTL_SECONDS - 2).decode()
    with pytest.raises(SealExpired):
        unseal(old, message_id="m-1", phone=VICTIM)


def _refused(reason: str) -> float:
    return REGISTRY.get_sample_value("otp_sms_refused_total", {"reason": reason}) or 0.0


def _deliver_sms_kwargs(broker, prefix: str, phone: str) -> dict | None:
    """What the attacker reads in Redis: the kwargs of a queued deliver_sms message for `phone`,
    waiting in the queue or held by a worker until its countdown (the `unacked` hash)."""
    raw = [json.loads(item) for item in broker.lrange(f"{prefix}celery", 0, -1)]
    raw += [json.loads(item)[0] for item in broker.hvals(f"{prefix}unacked")]
    for message in raw:
        if message["headers"].get("task") != "codes.deliver_sms":
            continue
        _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        if kwargs.get("phone") == phone:
            return kwargs
    return None


def _steal(broker, prefix: str, victim: str) -> dict:
    found: dict = {}

    def read() -> bool:
        found.update(_deliver_sms_kwargs(broker, prefix, victim) or {})
        return bool(found)

    assert wait_until(read, 5), "the victim's message never showed in Redis"
    return found


def _redirected_copies(stolen: dict, attacker: str) -> list[dict]:
    """The victim's sealed code with the attacker's phone: under the victim's message id, and a new one."""
    return [{**stolen, "phone": attacker}, {**stolen, "phone": attacker, "message_id": uuid.uuid4().hex}]


@pytest.fixture
def texts_to(request, settings, httpserver, caplog):
    """The backend under attack (SMS_BACKEND = the param); returns texts_to(phone) → the texts that
    backend delivered to that phone: the inbox, the console's log lines, the fake Twilio's requests."""
    caplog.set_level(logging.INFO, logger="sms")
    if request.param == "twilio":
        request.getfixturevalue("providers").SMS_PROVIDERS = ["twilio"]
        httpserver.expect_request(TWILIO_PATH).respond_with_handler(
            lambda _request: Response(json.dumps(TWILIO_CREATED), status=201, content_type="application/json")
        )
        return lambda phone: [r.form["Body"] for r, _ in httpserver.log if r.form["To"] == phone]
    settings.SMS_BACKEND, settings.SMS_PROVIDERS = request.param, [request.param]
    if request.param == "inbox":
        return lambda phone: [m["text"] for m in store.inbox_list(phone=phone)]
    return lambda phone: [r.args[1] for r in caplog.records if r.name == "sms" and r.args[0] == phone]


@pytest.mark.worker
@pytest.mark.parametrize("texts_to", ["inbox", "console", "twilio"], indirect=True)
def test_a_redirected_copy_of_a_queued_sms_reaches_nobody(celery_worker, texts_to, phone, known_code, caplog, settings):
    victim, attacker = phone, phone[:-1] + str((int(phone[-1]) + 1) % 10)
    settings.SMS_DELAY_MIN_SECONDS = settings.SMS_DELAY_MAX_SECONDS = 1.5  # time to read it in Redis
    refused_before = _refused("altered")
    known_code("7319")
    services.otp_send(phone=victim)
    with celery_app.connection_for_write() as conn:
        prefix = celery_app.conf.broker_transport_options["global_keyprefix"]
        stolen = _steal(conn.default_channel.client, prefix, victim)
    for copy in _redirected_copies(stolen, attacker):
        celery_app.send_task("codes.deliver_sms", kwargs=copy)

    wait_until(lambda: texts_to(victim) or texts_to(attacker), 5)
    time.sleep(0.5)  # the copies run at once, the victim's message after its countdown
    assert texts_to(attacker) == []
    assert texts_to(victim) == ["Your sign-in code: 7319"]
    assert _refused("altered") - refused_before == 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "codes.tasks" and r.levelno == logging.WARNING]
    assert len([w for w in warnings if w.endswith("refused: its sealed code does not open for it (altered)")]) == 2
    assert not any("7319" in w or attacker in w for w in warnings)


@pytest.mark.worker
def test_a_message_sealed_by_the_previous_release_is_refused_and_the_worker_goes_on(
    celery_worker, inbox_backend, phone, known_code
):
    old_before = _refused("old_format")
    legacy = {"message_id": uuid.uuid4().hex, "phone": phone, "sealed_code": _fernet().encrypt(b"5555").decode()}
    celery_app.send_task("codes.deliver_sms", kwargs={**legacy, "requested_at": "2026-01-01T00:00:00+00:00"})
    assert wait_until(lambda: _refused("old_format") - old_before == 1, 5), "the old-format message was not refused"
    known_code("6666")
    services.otp_send(phone=phone)  # the user asks for a new code: it arrives
    assert wait_until(lambda: store.inbox_list(phone=phone), 5)
    assert [m["code"] for m in store.inbox_list(phone=phone)] == ["6666"]


def _worker_sample(metrics_port: int, name: str, **labels: str) -> float:
    text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


@pytest.mark.faults
def test_the_worker_process_refuses_a_redirected_copy_published_on_its_redis(private_redis, otp_stack, phone):
    """The stack as deployed: web and worker processes on their own Redis; the attacker has only
    that Redis (no secret, no code): they read the victim's message there and publish on it."""
    stack = otp_stack(private_redis, SMS_DELAY_MIN_SECONDS="2", SMS_DELAY_MAX_SECONDS="2")
    config = stack.config
    victim, attacker = phone, phone[:-1] + str((int(phone[-1]) + 1) % 10)
    headers = {"Authorization": "Bearer fault-token"}
    sent = requests.post(f"{config.otp_url}/v1/codes/", json={"phone": victim}, headers=headers, timeout=5)
    assert sent.status_code == 202

    prefix = f"{config.prefix}celery:"
    broker_url = f"{private_redis.url}/{config.celery_db}"
    with redis.Redis.from_url(broker_url) as broker:
        stolen = _steal(broker, prefix, victim)
    publisher = Celery("attacker", broker=broker_url, set_as_current=False)
    publisher.conf.broker_transport_options = {"global_keyprefix": prefix}
    for copy in _redirected_copies(stolen, attacker):
        publisher.send_task("codes.deliver_sms", kwargs=copy)
    publisher.close()

    wait_until(lambda: inbox_messages(config.otp_url, victim), 10)
    time.sleep(0.5)
    assert inbox_messages(config.otp_url, attacker) == []
    assert len(inbox_messages(config.otp_url, victim)) == 1
    refused = _worker_sample(config.worker_metrics_port, "otp_sms_refused_total", reason="altered")
    assert refused == 2

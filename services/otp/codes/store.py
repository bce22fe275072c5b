"""The only module that touches Redis keys. Every operation is one round trip (a Lua script).

Keys for one phone share a hash tag, `{+79991234567}`, so the scripts stay cluster-safe:
  <prefix>{phone}:code      hash {h: HMAC hex, a: wrong attempts}, TTL = code lifetime
  <prefix>{phone}:cooldown  exists while a resend is not allowed
  <prefix>{phone}:sends     sorted set of send times (ms) in the last hour
  <prefix>{phone}:failures  sorted set of wrong-guess times (ms) in the last 24 h, across codes
  <prefix>{sms-guard}:...   the SMS-pumping guard's windows (see _SMS_GUARD)
  <prefix>{phone}:inbox     dev inbox: newest-first JSON messages (inbox backend only)
  <prefix>inbox             dev inbox: recent messages for all phones
  <prefix>sms:<message id>  the message's delivery record, JSON {status, provider, provider_id, ...}
                           (codes.delivery), so a redelivered message is never sent twice
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import cache
from string import Template
from typing import cast

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from svckit import sliding_window

# The scripts' constants, written there as $NAME and filled in once, by _script. The windows: an
# hour for the send cap, the SMS-pumping guard's prefix window and conversion block; a day for the
# failure budget and the guard's country and service windows. The shortest Retry-After of a burned code.
SCRIPT_CONSTANTS = {"HOUR_MS": 3_600_000, "DAY_MS": 86_400_000, "MIN_WAIT_MS": 1000}
DELIVERED_MARK_SECONDS = 86_400
GLOBAL_INBOX_SIZE = 50

# Milliseconds until this phone may be sent a new code (0 = now): the cooldown, then the hourly
# window of sends. KEYS[2] cooldown, KEYS[3] sends. Shared by the send and verify scripts.
_NEXT_SEND_WAIT = (
    sliding_window.LIBRARY
    + """
local function next_send_wait(now, max_sends)
  local wait = redis.call('PTTL', KEYS[2])
  if wait < 0 then wait = 0 end
  return math.max(wait, window_wait(KEYS[3], now, $HOUR_MS, max_sends))
end
"""
)

# KEYS: code, cooldown, sends. ARGV: digest, ttl_ms, cooldown_ms, max_sends, send id.
# Returns {1, 0} when stored, {0, wait_ms} when the phone must wait.
_SEND = (
    _NEXT_SEND_WAIT
    + """
local now = now_ms()
local wait = next_send_wait(now, tonumber(ARGV[4]))
if wait > 0 then return {0, wait} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'a', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[3]) end
window_add(KEYS[3], now, $HOUR_MS, ARGV[5])
return {1, 0}
"""
)

# KEYS: code. ARGV: digest, ttl_ms. A test number's fixed code: no cooldown, no hourly count. The
# same code still alive is kept with its wrong attempts and its life: sending it again makes no new
# code, so it cannot give a burned code new guesses. Returns the code's remaining life in ms.
_SET_CODE = """
if redis.call('HGET', KEYS[1], 'h') == ARGV[1] then return redis.call('PTTL', KEYS[1]) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'a', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return tonumber(ARGV[2])
"""

# KEYS: code, cooldown, sends. ARGV: send id. Undoes a send whose SMS could not be queued.
_CANCEL_SEND = """
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""

# KEYS: code, cooldown, sends, failures.
# ARGV: digest, max_attempts, max_sends, max_failures, guess id, fixed code (1: a test number's).
# Returns {1, 0} verified (the failures are forgiven); {0, attempts_left} wrong/expired/unknown;
# {2, wait_ms} the code is burned (until a new code may be sent; a fixed code: until it expires);
# {3, wait_ms} the phone's failure budget is spent (the right code included). Failures are a
# sliding 24 h window across codes: a new code does not reset them. Test numbers count alike.
_VERIFY = (
    _NEXT_SEND_WAIT
    + """
local now = now_ms()
local max_failures = tonumber(ARGV[4])
local locked = window_wait(KEYS[4], now, $DAY_MS, max_failures)
if locked > 0 then return {3, locked} end
local stored = redis.call('HMGET', KEYS[1], 'h', 'a')
if not stored[1] then return {0, 0} end
local max_attempts = tonumber(ARGV[2])
if tonumber(stored[2]) >= max_attempts then
  local wait = ARGV[6] == '1' and redis.call('PTTL', KEYS[1]) or next_send_wait(now, tonumber(ARGV[3]))
  return {2, math.max(wait, $MIN_WAIT_MS)}
end
-- constant-time comparison of the two HMACs
local a, b = stored[1], ARGV[1]
local diff = 0
if #a ~= #b then diff = 1 end
for i = 1, #a do
  diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i) or 0))
end
if diff == 0 then
  redis.call('DEL', KEYS[1], KEYS[4])
  return {1, 0}
end
local used = redis.call('HINCRBY', KEYS[1], 'a', 1)
window_add(KEYS[4], now, $DAY_MS, ARGV[5])
local failures_left = max_failures - redis.call('ZCARD', KEYS[4])
return {0, math.max(math.min(max_attempts - used, failures_left), 0)}
"""
)

# KEYS: phone inbox, global inbox. ARGV: message JSON, phone inbox size, global inbox size, inbox ttl_s.
_INBOX_ADD = """
for i = 1, 2 do
  redis.call('LPUSH', KEYS[i], ARGV[1])
  redis.call('LTRIM', KEYS[i], 0, tonumber(ARGV[i + 1]) - 1)
  redis.call('EXPIRE', KEYS[i], ARGV[4])
end
return 1
"""


# KEYS: delivery mark. ARGV: claim record, ttl_s. Takes the mark when it is free or holds a failed
# attempt that may be tried again (status "retry"); returns false then, else the record held.
_SMS_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held then
  local ok, record = pcall(cjson.decode, held)
  if not (ok and type(record) == 'table' and record['status'] == 'retry') then return held end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""

# KEYS: delivery mark. ARGV: our claim record, new record, ttl_s.
# Changes the mark only while it still holds our claim; returns 1 if it did.
_SMS_SETTLE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""

# The SMS-pumping guard's windows: one hash tag for all of them, so one script can check and count
# every scope atomically and stay within one Redis Cluster slot.
#   <prefix>{sms-guard}:prefix:<+7999123>           sends to the number prefix, last hour
#   <prefix>{sms-guard}:verified:<+7999123>         verified codes of the prefix, last hour
#   <prefix>{sms-guard}:blocked:<+7999123>          exists while the conversion tripwire holds
#   <prefix>{sms-guard}:country:<RU>                sends to the country, last 24 h
#   <prefix>{sms-guard}:service                     every send, last 24 h
# KEYS: prefix, verified, blocked, country, service.
# ARGV: prefix_limit, country_limit, service_limit, min_sends, min_conversion, send id, enforce (1/0).
# Returns {scope, wait_ms}: scope "" when nothing tripped. With enforce, a tripped scope counts nothing.
_SMS_GUARD = (
    sliding_window.LIBRARY
    + """
local now = now_ms()
local scope, wait = '', 0
local blocked = redis.call('PTTL', KEYS[3])
if blocked > 0 then scope, wait = 'conversion', blocked end
local windows = {{KEYS[1], $HOUR_MS, ARGV[1], 'prefix'}, {KEYS[4], $DAY_MS, ARGV[2], 'country'},
                 {KEYS[5], $DAY_MS, ARGV[3], 'service'}}
for _, w in ipairs(windows) do
  if scope ~= '' then break end
  local w_wait = window_wait(w[1], now, w[2], tonumber(w[3]))
  if w_wait > 0 then scope, wait = w[4], w_wait end
end
if scope == '' then
  local sends = window_count(KEYS[1], now, $HOUR_MS)
  if sends >= tonumber(ARGV[4]) and window_count(KEYS[2], now, $HOUR_MS) < tonumber(ARGV[5]) * sends then
    redis.call('SET', KEYS[3], '1', 'PX', $HOUR_MS)
    scope, wait = 'conversion', $HOUR_MS
  end
end
if scope ~= '' and ARGV[7] == '1' then return {scope, wait} end
window_add(KEYS[1], now, $HOUR_MS, ARGV[6])
window_add(KEYS[4], now, $DAY_MS, ARGV[6])
window_add(KEYS[5], now, $DAY_MS, ARGV[6])
return {scope, wait}
"""
)

# KEYS: the prefix's verified window. ARGV: a unique member.
_SMS_GUARD_VERIFIED = (
    sliding_window.LIBRARY
    + """
window_add(KEYS[1], now_ms(), $HOUR_MS, ARGV[1])
return 1
"""
)


@dataclass(frozen=True)
class SendResult:
    stored: bool
    wait_ms: int


@dataclass(frozen=True)
class VerifyResult:
    status: str  # "verified" | "invalid" | "burned" | "locked" (the phone's failure budget is spent)
    attempts_left: int = 0
    wait_ms: int = 0


@cache
def client() -> redis.Redis:
    """One pooled client per process, short timeouts so a dead Redis fails fast (never a hang)."""
    return redis.Redis.from_url(
        settings.REDIS_URL,
        db=settings.OTP_REDIS_DB,
        socket_timeout=settings.REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
        decode_responses=True,
    )


@cache
def _script(source: str):
    """The script registered on the client, its constants filled in (KeyError for an unknown one)."""
    return client().register_script(Template(source).substitute(SCRIPT_CONSTANTS))


def _phone_keys(phone: str) -> list[str]:
    base = f"{settings.OTP_KEY_PREFIX}{{{phone}}}"
    return [f"{base}:code", f"{base}:cooldown", f"{base}:sends", f"{base}:failures"]


def code_store(*, phone: str, digest: str, send_id: str) -> SendResult:
    stored, wait = _script(_SEND)(
        keys=_phone_keys(phone)[:3],
        args=[
            digest,
            settings.OTP_TTL_SECONDS * 1000,
            settings.OTP_RESEND_COOLDOWN_SECONDS * 1000,
            settings.OTP_MAX_SENDS_PER_HOUR,
            send_id,
        ],
    )
    return SendResult(stored=bool(stored), wait_ms=int(wait))


def code_store_fixed(*, phone: str, digest: str) -> int:
    """Set a test number's fixed code without touching its send limits; the same code still alive
    keeps its attempts and its life (see _SET_CODE). Returns its remaining life in milliseconds."""
    return int(_script(_SET_CODE)(keys=_phone_keys(phone)[:1], args=[digest, settings.OTP_TTL_SECONDS * 1000]))


def code_cancel(*, phone: str, send_id: str) -> None:
    _script(_CANCEL_SEND)(keys=_phone_keys(phone)[:3], args=[send_id])


def code_check(*, phone: str, digest: str, fixed: bool = False) -> VerifyResult:
    """One guess: OTP_MAX_ATTEMPTS per code, OTP_MAX_FAILURES_PER_DAY per phone (sliding 24 h), for
    every number; `fixed` (a test number's code) only changes how long a burned code waits."""
    status, value = _script(_VERIFY)(
        keys=_phone_keys(phone),
        args=[
            digest,
            settings.OTP_MAX_ATTEMPTS,
            settings.OTP_MAX_SENDS_PER_HOUR,
            settings.OTP_MAX_FAILURES_PER_DAY,
            uuid.uuid4().hex,
            int(fixed),
        ],
    )
    if status == 1:
        return VerifyResult(status="verified")
    if status == 2:
        return VerifyResult(status="burned", wait_ms=int(value))
    if status == 3:
        return VerifyResult(status="locked", wait_ms=int(value))
    return VerifyResult(status="invalid", attempts_left=int(value))


@dataclass(frozen=True)
class GuardVerdict:
    scope: str | None  # None, or the scope that tripped: "conversion" | "prefix" | "country" | "service"
    wait_ms: int = 0


def _guard_key(name: str) -> str:
    return f"{settings.OTP_KEY_PREFIX}{{sms-guard}}:{name}"


def sms_guard_hit(
    *,
    prefix: str,
    country: str,
    send_id: str,
    prefix_limit: int,
    country_limit: int,
    service_limit: int,
    min_sends: int,
    min_conversion: float,
    enforce: bool,
) -> GuardVerdict:
    """Check and count one send in every guard scope, in one atomic script (see _SMS_GUARD)."""
    scope, wait = _script(_SMS_GUARD)(
        keys=[
            _guard_key(f"prefix:{prefix}"),
            _guard_key(f"verified:{prefix}"),
            _guard_key(f"blocked:{prefix}"),
            _guard_key(f"country:{country}"),
            _guard_key("service"),
        ],
        args=[prefix_limit, country_limit, service_limit, min_sends, repr(min_conversion), send_id, int(enforce)],
    )
    return GuardVerdict(scope=scope or None, wait_ms=int(wait))


def sms_guard_verified(*, prefix: str) -> None:
    _script(_SMS_GUARD_VERIFIED)(keys=[_guard_key(f"verified:{prefix}")], args=[uuid.uuid4().hex])


def sms_claim(*, message_id: str, claim: str) -> str | None:
    """Take the delivery record for one provider call (atomically). None when taken; otherwise the
    record already there (JSON, or "1": a message delivered by an earlier release's console or inbox)."""
    key = f"{settings.OTP_KEY_PREFIX}sms:{message_id}"
    return _script(_SMS_CLAIM)(keys=[key], args=[claim, DELIVERED_MARK_SECONDS])


def sms_settle(*, message_id: str, claim: str, record: str) -> bool:
    """Replace our claim with the attempt's outcome. False when the mark no longer holds our claim."""
    key = f"{settings.OTP_KEY_PREFIX}sms:{message_id}"
    return bool(_script(_SMS_SETTLE)(keys=[key], args=[claim, record, DELIVERED_MARK_SECONDS]))


def sms_mark(*, message_id: str) -> str | None:
    """The delivery mark of a message, None if it has none."""
    return cast("str | None", client().get(f"{settings.OTP_KEY_PREFIX}sms:{message_id}"))  # decode_responses


def inbox_add(*, phone: str, message: dict) -> None:
    """Put a message at the head of the phone's and the global dev inbox (one script)."""
    prefix = settings.OTP_KEY_PREFIX
    _script(_INBOX_ADD)(
        keys=[f"{prefix}{{{phone}}}:inbox", f"{prefix}inbox"],
        args=[json.dumps(message), settings.SMS_INBOX_SIZE, GLOBAL_INBOX_SIZE, settings.SMS_INBOX_TTL_SECONDS],
    )


def inbox_list(*, phone: str | None) -> list[dict]:
    prefix = settings.OTP_KEY_PREFIX
    key = f"{prefix}{{{phone}}}:inbox" if phone else f"{prefix}inbox"
    return [json.loads(item) for item in client().lrange(key, 0, -1)]


def ping() -> bool:
    return bool(client().ping())

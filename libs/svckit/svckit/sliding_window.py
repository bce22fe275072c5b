"""The one sliding-window-log algorithm in Lua, for every Redis rate limit of both services.

A window is a sorted set of event times (ms, Redis's own clock: every process agrees). `LIBRARY`
defines the Lua functions a script builds on; `HIT` is the whole script for a plain rate limit
(count one event, or say how long to wait). Keep every key of one script in one hash slot
(`{...}` tags) so that it stays valid on a Redis Cluster."""

from __future__ import annotations

# now_ms(): Redis's clock in ms.
# window_wait(key, now, width, limit): drop events older than `width` ms; 0 if one more event fits
#   under `limit`, else the ms until enough old ones leave (at least 1).
# window_add(key, now, width, member): record an event (`member` unique) and let the key expire.
# window_count(key, now, width): events in the window.
LIBRARY = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function window_count(key, now, width)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - width)
  return redis.call('ZCARD', key)
end
local function window_wait(key, now, width, limit)
  local count = window_count(key, now, width)
  if count < limit then return 0 end
  -- the (count - limit + 1)-th oldest event must leave first (limits can be lowered at run time)
  local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  if not oldest[2] then return width end
  return math.max(tonumber(oldest[2]) + width - now, 1)
end
local function window_add(key, now, width, member)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, width)
end
"""

# KEYS: the window. ARGV: width ms, limit, a unique member.
# Returns 0 when the event is counted, else the ms to wait (nothing is counted then).
HIT = (
    LIBRARY
    + """
local now = now_ms()
local wait = window_wait(KEYS[1], now, tonumber(ARGV[1]), tonumber(ARGV[2]))
if wait > 0 then return wait end
window_add(KEYS[1], now, tonumber(ARGV[1]), ARGV[3])
return 0
"""
)

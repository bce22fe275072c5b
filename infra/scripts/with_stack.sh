#!/usr/bin/env bash
# Run a command against the live local stack (core :8000, OTP :8001, worker, dev inbox on).
# If both services already answer /readyz, they are used as they are; otherwise the same
# processes `make run` starts are launched in the background, and stopped when the command ends.
#   with_stack.sh COMMAND ARGS...      (logs of a started stack: var/log/stack.log)
set -uo pipefail
cd "$(dirname "$0")/../.."
CORE_URL="${CORE_URL:-http://127.0.0.1:8000}"
OTP_URL="${OTP_URL:-http://127.0.0.1:8001}"
export CORE_URL OTP_URL

ready() { curl -fs -o /dev/null --max-time 5 "$CORE_URL/readyz" 2>/dev/null && curl -fs -o /dev/null --max-time 5 "$OTP_URL/readyz" 2>/dev/null; }

if ready; then
  echo "with_stack: using the stack already running at $CORE_URL and $OTP_URL"
  exec "$@"
fi

mkdir -p var/log
echo "with_stack: starting the stack (logs: var/log/stack.log)"
setsid infra/scripts/run.sh >var/log/stack.log 2>&1 &
stack_pid=$!
stop() {
  kill -TERM -- "-$stack_pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$stack_pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$stack_pid" 2>/dev/null || true
}
trap stop EXIT INT TERM

for _ in $(seq 120); do
  ready && break
  if ! kill -0 "$stack_pid" 2>/dev/null; then
    echo "with_stack: the stack exited while starting; its log:" >&2
    tail -n 50 var/log/stack.log >&2
    exit 1
  fi
  sleep 0.5
done
if ! ready; then
  echo "with_stack: the stack did not become ready within 60 s; its log:" >&2
  tail -n 50 var/log/stack.log >&2
  exit 1
fi
"$@"

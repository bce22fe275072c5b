#!/usr/bin/env bash
# `make e2e`: run the Postman collection with newman against the live local stack. A stack already
# answering at CORE_URL / OTP_URL is used as it is; otherwise with_stack.sh starts `make run`'s
# processes and stops them afterwards. Exits non-zero when any request or assertion fails.
# Extra arguments go to newman (e.g. `--folder Errors`). JUnit report: var/e2e/newman.xml.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CORE_URL="${CORE_URL:-http://127.0.0.1:8000}"
export OTP_URL="${OTP_URL:-http://127.0.0.1:8001}"
# A stack started here runs granian and celery from the project's virtual environment.
export PATH="$PWD/${VENV:-.venv}/bin:$PATH"

# newman from postman/package-lock.json; reinstalled only when the lock is newer than the install.
installed=postman/node_modules/.package-lock.json
if [ ! -x postman/node_modules/.bin/newman ] || [ postman/package-lock.json -nt "$installed" ]; then
  command -v npm >/dev/null || { echo "e2e: npm not found; install Node.js 18+ (apt-get install nodejs npm)" >&2; exit 2; }
  npm ci --prefix postman --no-audit --no-fund --loglevel=error >/dev/null
fi

token_args=()
if [ -n "${OTP_SERVICE_TOKEN:-}" ]; then
  token_args=(--env-var "otp_service_token=$OTP_SERVICE_TOKEN")
fi

color_args=()
[ -t 1 ] || color_args=(--color off)

mkdir -p var/e2e
exec infra/scripts/with_stack.sh postman/node_modules/.bin/newman run postman/referrals.postman_collection.json \
  --environment postman/local.postman_environment.json \
  --env-var "core_url=$CORE_URL" --env-var "otp_url=$OTP_URL" "${token_args[@]}" \
  "${color_args[@]}" \
  --timeout-request 10000 \
  --reporters cli,junit --reporter-junit-export var/e2e/newman.xml \
  "$@"

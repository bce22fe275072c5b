#!/bin/sh
# `make run`: every process of the product in the foreground with interleaved logs (honcho).
# Ctrl-C stops them all. Development defaults: dev SMS inbox on, SQLite for the core if
# DATABASE_URL is unset.
set -e
cd "$(dirname "$0")/../.."
export SMS_BACKEND="${SMS_BACKEND:-inbox}"
export PYTHONUNBUFFERED=1
# The bin/ scripts call granian and celery by name, as in the containers.
export PATH="$PWD/${VENV:-.venv}/bin:$PATH"
exec python infra/scripts/with_services.py -- honcho -f infra/Procfile -d . start

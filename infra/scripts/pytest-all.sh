#!/bin/sh
# Run each service's pytest suite in its own directory (each has its own `config` package).
set -e
root="$(cd "$(dirname "$0")/../.." && pwd)"
for service in "$@"; do
  if [ -d "$root/$service" ] && [ -f "$root/$service/pyproject.toml" ]; then
    echo "== $service"
    (cd "$root/$service" && "$root/.venv/bin/pytest" -q)
  fi
done

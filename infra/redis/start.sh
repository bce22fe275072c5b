#!/bin/sh
# Redis under docker-compose: its users come from the environment at start-up and reach
# redis-server on standard input, so no password is written to a file (the ACL keeps only their
# SHA-256). The default user is off: every client names its user. Each service's user may touch
# only its own key prefixes and pub/sub channels and runs no admin or dangerous command
# (https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/).
#   REDIS_OTP_PASSWORD   user otp:  OTP_KEY_PREFIX, OTP_CELERY_KEY_PREFIX, OTP_CELERY_FANOUT
#   REDIS_CORE_PASSWORD  user core: CORE_CACHE_KEY_PREFIX (django-redis adds ":"), CORE_CELERY_KEY_PREFIX,
#                        CORE_CELERY_FANOUT
# A *_CELERY_FANOUT is the channel the worker's control queue (what `celery inspect ping` asks)
# PSUBSCRIBEs to: kombu's <key prefix>/<broker DB>.celery.pidbox. Redis lets a client PSUBSCRIBE
# only to a pattern its ACL names literally, so it is named as well as the prefix.
#   REDIS_ADMIN_PASSWORD user admin, every key and command, only when set (an operator's redis-cli)
# Passwords go into the services' REDIS_URL, so they hold URL-safe characters only; with
# APP_ENV=production they are at least 32 characters. Arguments are passed on to redis-server.
set -eu

refuse() {
  echo "redis: $1" >&2
  exit 1
}

# login NAME VARIABLE: the start of user NAME's rule, its password from VARIABLE (refused if unsafe).
login() {
  eval "password=\${$2:-}"
  case $password in
    "") refuse "$2 must be set (in .env; .env.example says how)" ;;
    *[!A-Za-z0-9._~-]*) refuse "$2 may hold only letters, digits and . _ ~ - (it is part of REDIS_URL)" ;;
  esac
  if [ "${APP_ENV:-}" = production ] && [ ${#password} -lt 32 ]; then
    refuse "$2 must be at least 32 characters when APP_ENV=production"
  fi
  echo "user $1 on resetpass #$(printf %s "$password" | sha256sum | cut -d ' ' -f 1) resetkeys resetchannels"
}

# service NAME VARIABLE FANOUT PREFIX...: a service's user, limited to its keys and channels.
service() {
  rule="$(login "$1" "$2") &$3"
  shift 3
  for prefix in "$@"; do
    [ -n "$prefix" ] || refuse "a key prefix is empty"
    rule="$rule ~$prefix* &$prefix*"
  done
  # SCAN and RANDOMKEY would show every service's key names, whatever the key patterns allow.
  echo "$rule -@all +@all -@dangerous -@admin -scan -randomkey"
}

otp=$(service otp REDIS_OTP_PASSWORD "${OTP_CELERY_FANOUT:?}" "${OTP_KEY_PREFIX:?}" "${OTP_CELERY_KEY_PREFIX:?}")
core=$(service core REDIS_CORE_PASSWORD "${CORE_CELERY_FANOUT:?}" "${CORE_CACHE_KEY_PREFIX:?}:" \
  "${CORE_CELERY_KEY_PREFIX:?}")
admin="user admin off resetpass"
if [ -n "${REDIS_ADMIN_PASSWORD:-}" ]; then
  admin="$(login admin REDIS_ADMIN_PASSWORD) ~* &* +@all"
fi

# Pending codes, rate limits and queued SMS survive a restart: an append-only file in the working
# directory (the image's /data), fsynced every second and on shutdown.
exec redis-server - "$@" <<CONFIG
user default off resetpass resetkeys resetchannels -@all
$otp
$core
$admin
appendonly yes
appendfsync everysec
save ""
CONFIG

#!/bin/sh
# Entry point of the `lb` service: wait (bounded) until the api replicas resolve, then run nginx through the
# image's own entrypoint. A background loop re-resolves `api` every LB_RESOLVE_INTERVAL_S seconds and reloads
# nginx gracefully (in-flight requests finish) when replicas were added, removed or recreated.
set -eu

host="${LB_UPSTREAM_HOST:-api}"
interval="${LB_RESOLVE_INTERVAL_S:-2}"
wait_s="${LB_WAIT_TIMEOUT_S:-60}"

replicas() { getent ahostsv4 "$host" 2>/dev/null | awk '{print $1}' | sort -u | tr '\n' ' '; }
log() { echo "lb: $*" >&2; }

waited=0
while [ -z "$(replicas)" ] && [ "$waited" -lt "$wait_s" ]; do
  sleep 1
  waited=$((waited + 1))
done
[ -n "$(replicas)" ] || log "'$host' does not resolve after ${wait_s}s; starting anyway"

watch_replicas() {
  current="$(replicas)"
  log "upstream $host: ${current:-none}"
  while sleep "$interval"; do
    now="$(replicas)"
    if [ -n "$now" ] && [ "$now" != "$current" ]; then
      log "upstream $host changed: ${current:-none} -> $now; reloading"
      nginx -s reload || log "reload failed; keeping the previous configuration"
      current="$now"
    fi
  done
}

if [ "${1:-}" = "nginx" ]; then
  watch_replicas &
fi
exec /docker-entrypoint.sh "$@"

#!/bin/sh
# One-shot bucket bootstrap for the MLflow artifact store (run by the compose service `minio-bucket`, mc image).
# Idempotent: safe to run on every `docker compose up`. Waits for MinIO with a bounded retry, creates the bucket
# if missing and keeps it private (no anonymous access). Extra arguments, if any, are run as an `mc` command
# afterwards with the alias `lab` set, e.g. `docker compose run --rm --no-deps minio-bucket ls -r lab/mlflow`.
set -eu

endpoint="${MINIO_ENDPOINT:-http://minio:9000}"
bucket="${MLFLOW_BUCKET:-mlflow}"
timeout_s="${MINIO_WAIT_TIMEOUT_S:-60}"
: "${MINIO_ROOT_USER:?MINIO_ROOT_USER is not set}"
: "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD is not set}"

log() { echo "minio-bucket: $*" >&2; }

# mc keeps its config in $HOME/.mc; the mc image may run without a writable home.
export MC_CONFIG_DIR="${MC_CONFIG_DIR:-/tmp/.mc}"

waited=0
delay=1
until mc alias set lab "$endpoint" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1 \
    && mc ls lab >/dev/null 2>&1; do
  if [ "$waited" -ge "$timeout_s" ]; then
    log "MinIO at $endpoint not reachable after ${timeout_s}s; giving up"
    exit 1
  fi
  sleep "$delay"
  waited=$((waited + delay))
  delay=$((delay * 2 > 5 ? 5 : delay * 2))
done

mc mb --ignore-existing "lab/$bucket" >/dev/null
# Private: no anonymous policy. MLflow proxies every artifact, so only its server holds credentials.
mc anonymous set private "lab/$bucket" >/dev/null 2>&1 || true
policy="$(mc anonymous get "lab/$bucket" 2>/dev/null || true)"
case "$policy" in
  *private* | "") log "bucket '$bucket' ready (private)" ;;
  *) log "bucket '$bucket' is not private: $policy"; exit 1 ;;
esac

if [ "$#" -gt 0 ]; then
  exec mc "$@"
fi

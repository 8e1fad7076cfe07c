#!/bin/bash
# The api image's health check (Dockerfile HEALTHCHECK, docker-compose.yaml, docker-stack.yaml): exit 0 when
# GET /ready answers 200, i.e. once the model is loaded. Bash's /dev/tcp, no Python: a `python -c` urllib
# check cost ~80 ms of CPU in the replica's cgroup, this one costs what any Docker exec does (~18 ms, runc's
# own setup inside the container's cgroup).
#
# Paced for an idle replica: until it first succeeds, Docker runs it every `interval` (2 s), so `up --wait`
# sees a replica ready within ~2 s; once it has succeeded in this container's life, it waits PACE_S before
# checking, so an idle replica pays for one check a minute. Docker schedules the next check `interval` after
# the previous one ended, on every engine. This is what `start_interval` does, but Compose refuses
# `start_interval` on engines older than 25 (API 1.44: "can't set healthcheck.start_interval as feature
# require Docker Engine v25 or later") and their builder refuses `HEALTHCHECK --start-interval`
# ("Unknown flag: start-interval"); this works on both. Docker's `timeout` must exceed PACE_S + 5.
PACE_S=58
# The marker belongs to this start of the server (PID 1's start time, field 22 of /proc/1/stat): a restarted
# container checks quickly again.
read -r -a pid1 </proc/1/stat
marker="/tmp/healthcheck-ok.${pid1[21]}"
# `healthcheck.sh --now` checks at once (to measure one check, or by hand).
[[ -e $marker && ${1:-} != --now ]] && sleep "$PACE_S"
exec 3<>"/dev/tcp/127.0.0.1/${API_PORT:-8000}" || exit 1
printf 'GET /ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
read -r -t 4 status <&3 || exit 1
[[ $status == "HTTP/1."[01]" 200 "* ]] || exit 1
: >"$marker"

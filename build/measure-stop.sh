#!/usr/bin/env bash
# Measures the time from SIGTERM to process exit for the sample, with the library's default options
# (TrafficWait 5 s minimum / 2 s quiet / 15 s maximum, DrainTimeout 10 s), with and without in-flight work.
# A measurement, not a test: nothing here passes or fails on a time. Usage: build/measure-stop.sh [repetitions]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reps="${1:-3}"
dotnet build "$root/samples/GracefulShutdown.Sample" -c Release --nologo -v q >/dev/null
dll="$root/samples/GracefulShutdown.Sample/bin/Release/net10.0/GracefulShutdown.Sample.dll"
log="$(mktemp)"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -f "$log"' EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

start() {
  dotnet "$dll" --urls http://127.0.0.1:0 "$@" > "$log" 2>&1 &
  pid=$!
  url=""
  for _ in $(seq 1 200); do
    url="$(grep -o 'Now listening on: http://127.0.0.1:[0-9]*' "$log" | head -1 | sed 's/Now listening on: //' || true)"
    # Ready means /health/ready answers 200 (the library's readiness, after its warm-up); the plain app has no such path (404).
    if [ -n "$url" ]; then
      code="$(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready" || true)"
      if [ "$code" = "200" ] || { [ "$code" = "404" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/" || true)" = "200" ]; }; then return; fi
    fi
    sleep 0.05
  done
  echo "the sample did not start"; cat "$log"; exit 1
}

stop_and_time() {
  local t0 code
  t0=$(now_ms)
  kill -TERM "$pid"
  code=0; wait "$pid" || code=$?
  pid=""
  echo "$(( $(now_ms) - t0 )) ms (exit code $code)"
}

scenario() {
  local name="$1"; shift
  for i in $(seq 1 "$reps"); do
    case "$name" in
      idle) start; stop_and_time ;;
      inflight-3s) start; curl -s -o /dev/null "$url/work?ms=3000" & sleep 0.2; stop_and_time; wait ;;
      inflight-8s) start; curl -s -o /dev/null "$url/work?ms=8000" & sleep 0.2; stop_and_time; wait ;;
      after-prestop) start; curl -s -o /dev/null "$url/lifecycle/prestop"; stop_and_time ;;
      plain-idle) start --Sample:UseLibrary=false; stop_and_time ;;
      plain-inflight-3s) start --Sample:UseLibrary=false; curl -s -o /dev/null "$url/work?ms=3000" & sleep 0.2; stop_and_time; wait ;;
    esac | sed "s/^/$name #$i: /"
  done
}

echo "SIGTERM to exit, sample in Release, default options, $(nproc) cores:"
for s in idle inflight-3s inflight-8s after-prestop plain-idle plain-inflight-3s; do scenario "$s"; done

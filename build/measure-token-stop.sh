#!/usr/bin/env bash
# Measures SIGTERM → exit for the sample with stop work that runs until the host's stop token fires (Sample:TokenBoundStopWork),
# while a caller sends one request every 0.2 s for 8 s: the outside review's reproduction of "the host's stop timeout starts only
# after the traffic wait". Budget: TrafficWait 1–6 s, DrainTimeout 4 s (lead 1 s), StopMargin 2 s, TerminationGracePeriod 12 s.
# With MODE=prestop, kubelet's order instead: GET /lifecycle/prestop (answered when the traffic wait is over), then SIGTERM; the
# time is measured from the preStop call, where the grace period starts.
# A measurement, not a test. Usage: [MODE=signal|prestop] build/measure-token-stop.sh [repetitions] [sample.dll]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reps="${1:-3}"
mode="${MODE:-signal}"
dll="${2:-$root/samples/GracefulShutdown.Sample/bin/Release/net10.0/GracefulShutdown.Sample.dll}"
[ -n "${2:-}" ] || dotnet build "$root/samples/GracefulShutdown.Sample" -c Release --nologo -v q >/dev/null
log="$(mktemp)"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -f "$log"' EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
for i in $(seq 1 "$reps"); do
  dotnet "$dll" --urls http://127.0.0.1:0 --Sample:TokenBoundStopWork=true \
    --GracefulShutdown:TrafficWait:Minimum=00:00:01 --GracefulShutdown:TrafficWait:Maximum=00:00:06 \
    --GracefulShutdown:DrainTimeout=00:00:04 --GracefulShutdown:DrainCancellationLead=00:00:01 \
    --GracefulShutdown:StopMargin=00:00:02 --GracefulShutdown:TerminationGracePeriod=00:00:12 > "$log" 2>&1 &
  pid=$!
  url=""
  for _ in $(seq 1 200); do
    url="$(grep -o 'Now listening on: http://127.0.0.1:[0-9]*' "$log" | head -1 | sed 's/Now listening on: //' || true)"
    if [ -n "$url" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready" || true)" = "200" ]; then break; fi
    sleep 0.05
  done
  # A caller: one request every 0.2 s for 8 s (40 requests), starting 1 s before SIGTERM.
  ( for _ in $(seq 1 40); do curl -s -o /dev/null "$url/" || true; sleep 0.2; done ) &
  caller=$!
  sleep 1
  t0=$(now_ms)
  if [ "$mode" = "prestop" ]; then curl -s -o /dev/null "$url/lifecycle/prestop"; fi
  kill -TERM "$pid"
  code=0; wait "$pid" || code=$?
  elapsed=$(( $(now_ms) - t0 ))
  pid=""
  wait "$caller" 2>/dev/null || true
  echo "run $i ($mode): $( [ "$mode" = prestop ] && echo 'preStop' || echo 'SIGTERM' ) → exit $elapsed ms (exit code $code; grace period 12000 ms)"
done

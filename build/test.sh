#!/usr/bin/env bash
# Runs every test: build (warnings are errors), unit and integration tests, the packaging smoke test,
# and the short rollout benchmark when its harness is present. Installs the Debian packages it needs when missing.
#
#   build/test.sh          the full suite (what .ci/run runs), with a RabbitMQ broker of its own (build/rabbitmq.sh)
#   build/test.sh --fast   build, then the unit, TestServer and in-process tests only: no test that starts a real process
#                          ([Trait("Category", "Process")] and everything in GracefulShutdown.IntegrationTests), no package
#                          smoke test, no rollout benchmark
#
# The last line is always "N passed, N failed, N skipped".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

fast=false
for arg in "$@"; do
  case "$arg" in
    --fast) fast=true ;;
    *) echo "usage: build/test.sh [--fast]" >&2; exit 2 ;;
  esac
done

need=()
if [ "$fast" = false ]; then
  command -v curl >/dev/null || need+=(curl)
  command -v ip >/dev/null || need+=(iproute2)
  # The Kubernetes API stand-in's tests drive the real kubectl; Debian's kubernetes-client when the machine has none.
  command -v kubectl >/dev/null || need+=(kubernetes-client)
fi
if [ "$fast" = false ] && { [ -x build/rollout/run.sh ] || [ -d build/Rollout ]; }; then
  command -v haproxy >/dev/null || need+=(haproxy)
  command -v wrk >/dev/null || need+=(wrk)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "build/test.sh needs: ${need[*]} (install them with apt-get, or run as root)" >&2
    exit 1
  fi
fi

results="$(mktemp -d)"
broker=false
cleanup() {
  if [ "$broker" = true ]; then ./build/rabbitmq.sh stop || true; fi
  rm -rf "$results"
}
trap cleanup EXIT

# The RabbitMQ integration tests' broker (full run only): Debian's rabbitmq-server on its own port and data directory,
# installed by build/rabbitmq.sh when missing, stopped at the end. Tests without GRACEFULSHUTDOWN_RABBITMQ_URL are skipped.
if [ "$fast" = false ]; then
  ./build/rabbitmq.sh start
  broker=true
  GRACEFULSHUTDOWN_RABBITMQ_URL="$(./build/rabbitmq.sh url)"
  export GRACEFULSHUTDOWN_RABBITMQ_URL
fi

filter=()
if [ "$fast" = true ]; then
  filter=(--filter "Category!=Process&FullyQualifiedName!~GracefulShutdown.IntegrationTests.")
fi

dotnet build GracefulShutdown.sln -c Release --nologo -v q
set +e
dotnet test GracefulShutdown.sln -c Release --no-build --nologo -v q --logger "console;verbosity=normal" "${filter[@]}" 2>&1 | tee "$results/test.log"
test_status=${PIPESTATUS[0]}
set -e

count() { { grep -Eo "^ +$1: +[0-9]+" "$results/test.log" || true; } | awk '{s+=$2} END {print s+0}'; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)

extra_status=0
if [ "$fast" = false ]; then
  if ./build/package-smoke.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); extra_status=1; fi
fi

if [ "$fast" = false ] && [ -x build/rollout/run.sh ]; then
  if ./build/rollout/run.sh --short; then passed=$((passed + 1)); else failed=$((failed + 1)); extra_status=1; fi
fi

# WebSocket and SignalR clients through the rolling update: exits 1 on a lost message or call, or a close other than 1001.
if [ "$fast" = false ] && [ -x build/rollout/longlived.sh ]; then
  if ROLLOUT_SKIP_BUILD=1 ./build/rollout/longlived.sh --short; then passed=$((passed + 1)); else failed=$((failed + 1)); extra_status=1; fi
fi

# The gRPC rolling update (HAProxy in HTTP/2 mode and client-side round robin), library only: exits 1 on any failed call.
if [ "$fast" = false ] && [ -x build/grpc-rollout/run.sh ]; then
  if ROLLOUT_SKIP_BUILD=1 ./build/grpc-rollout/run.sh --short; then passed=$((passed + 1)); else failed=$((failed + 1)); extra_status=1; fi
fi

# The worker rollout (2 replicas replaced while 400 messages are published at 40/s): the library, the plain consumer with
# autoAck (loses prefetched messages) and with manual ack and results on a connection of their own (processes some twice); the
# other two modes only in the full benchmark, to keep CI short. Exits 1 if the library row loses or duplicates an id, answers
# readiness 503 later than 0.5 s after SIGTERM, or exits non-zero or after 5 s.
if [ "$fast" = false ] && [ -x build/worker-rollout/run.sh ]; then
  if ROLLOUT_SKIP_BUILD=1 ./build/worker-rollout/run.sh --short --mode library,plain-auto,plain-manual+own; then passed=$((passed + 1)); else failed=$((failed + 1)); extra_status=1; fi
fi

# Name every failed test again just above the summary, with its message, so a CI log cut to its tail still says which.
if grep -Eq "^ +Failed [^:]" "$results/test.log"; then
  echo "Failed tests:"
  awk '/^ +Failed [^:]/ {show=12} show > 0 {print; show--}' "$results/test.log"
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$test_status" != 0 ] || [ "$extra_status" != 0 ] || [ "$passed" = 0 ]; then
  exit 1
fi

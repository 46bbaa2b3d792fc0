#!/usr/bin/env bash
# Worker rollout benchmark: rolling replacement of worker replicas while a publisher sends messages with unique ids, the library's
# consumer and the plain ones side by side (modes in Program.cs), against the tests' RabbitMQ broker. Starts that broker (build/rabbitmq.sh) unless
# GRACEFULSHUTDOWN_RABBITMQ_URL is set, builds the harness (and with it the worker sample), runs it.
# Usage: build/worker-rollout/run.sh [--short] [--replicas N] [--messages N] [--rate N] [--mode all|library|plain|plain-manual|plain-auto…,… (+own: results on a connection of their own)]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [[ -z "${GRACEFULSHUTDOWN_RABBITMQ_URL:-}" ]]; then
  "$root/build/rabbitmq.sh" start
  trap '"$root/build/rabbitmq.sh" stop' EXIT
  GRACEFULSHUTDOWN_RABBITMQ_URL="$("$root/build/rabbitmq.sh" url)"
  export GRACEFULSHUTDOWN_RABBITMQ_URL
fi

if [[ "${ROLLOUT_SKIP_BUILD:-}" != 1 ]]; then
  timeout 300 dotnet build "$here/WorkerRollout.csproj" -c Release -nologo -v q -clp:ErrorsOnly
fi

limit=3600
for a in "$@"; do [[ $a == --short ]] && limit=600; done
timeout --signal=INT --kill-after=15 "${ROLLOUT_TIMEOUT:-$limit}" dotnet "$here/bin/Release/net10.0/WorkerRollout.dll" "$@"

#!/usr/bin/env bash
# gRPC rollout benchmark: installs haproxy when missing (Debian, as root), builds the harness (and with it the gRPC sample),
# then runs it. Usage: build/grpc-rollout/run.sh [--short] [options]; --short (CI) runs the library only, one round, both modes,
# and exits 1 on any failed call. See docs/grpc.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v haproxy >/dev/null; then
  echo "Installing haproxy ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
fi

if [[ "${ROLLOUT_SKIP_BUILD:-}" != 1 ]]; then
  timeout 300 dotnet build "$here/GrpcRollout.csproj" -c Release -nologo -v q -clp:ErrorsOnly
fi

limit=1800
for a in "$@"; do [[ $a == --short ]] && limit=120; done
exec timeout --signal=INT --kill-after=15 "${ROLLOUT_TIMEOUT:-$limit}" dotnet "$here/bin/Release/net10.0/GrpcRollout.dll" "$@"

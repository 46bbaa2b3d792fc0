#!/usr/bin/env bash
# Rollout benchmark entry point: installs haproxy, wrk and python3 when missing (Debian, as root), builds the sample,
# then runs rollout.py with the given arguments. Usage: build/rollout/run.sh [--short] [rollout.py options]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk >/dev/null || missing+=(wrk)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  echo "Installing ${missing[*]} ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ "${ROLLOUT_SKIP_BUILD:-}" != 1 ]]; then
  timeout 300 dotnet build "$repo/samples/GracefulShutdown.Sample" -c Release -nologo -v q -clp:ErrorsOnly
  # The Kubernetes API stand-in as a process (variants 7 and 8), only when a run can use them: the fallback model or --variants.
  if [[ " $* " != *" --short "* ]]; then
    timeout 300 dotnet build "$repo/build/k8s-standin-server/K8sStandInServer.csproj" -c Release -nologo -v q -clp:ErrorsOnly
  fi
fi

limit=3600
for a in "$@"; do [[ $a == --short ]] && limit=420; done
exec timeout --signal=INT --kill-after=30 "${ROLLOUT_TIMEOUT:-$limit}" python3 "$here/rollout.py" "$@"

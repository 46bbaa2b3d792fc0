#!/usr/bin/env bash
# Long-lived connections through a rolling update (WebSockets and SignalR through HAProxy): installs haproxy and python3 when
# missing (Debian, as root), builds the sample and the load client, then runs longlived.py with the given arguments.
# Usage: build/rollout/longlived.sh [--short] [longlived.py options]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  echo "Installing ${missing[*]} ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ "${ROLLOUT_SKIP_BUILD:-}" != 1 ]]; then
  timeout 600 dotnet build "$repo/samples/GracefulShutdown.Sample" -c Release -nologo -v q -clp:ErrorsOnly
  timeout 600 dotnet build "$repo/build/longlived-load" -c Release -nologo -v q -clp:ErrorsOnly
fi

limit=3600
for a in "$@"; do [[ $a == --short ]] && limit=400; done
exec timeout --signal=INT --kill-after=30 "${ROLLOUT_TIMEOUT:-$limit}" python3 "$here/longlived.py" "$@"

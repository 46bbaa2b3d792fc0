#!/usr/bin/env bash
# Evicted-pod benchmark (issue 16): the sample with GracefulShutdown.Kubernetes, without it, and with the API unreachable,
# against the Kubernetes API stand-in, with a balancer that lets go after 1 s and one still routing at the kill.
# Usage: build/k8s-eviction/run.sh [rounds per variant, default 3]. See docs/kubernetes.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
timeout 300 dotnet build "$here/K8sEviction.csproj" -c Release -nologo -v q -clp:ErrorsOnly
exec timeout --signal=INT --kill-after=15 600 dotnet "$here/bin/Release/net10.0/K8sEviction.dll" "$@"

#!/usr/bin/env bash
# Packaging smoke test: pack the library into the repo-local feed, build a consumer that references it as a
# NuGet PackageReference (as users get it), start it, probe its readiness, and stop it with SIGTERM.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

version="0.1.0-smoke.$(date +%s)"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

dotnet pack src/GracefulShutdown/GracefulShutdown.csproj -c Release -o build/feed -p:Version="$version" --nologo -v q
dotnet build build/package-smoke/PackageConsumer.csproj -c Release -o "$work/out" -p:GracefulShutdownVersion="$version" --nologo -v q

if ! grep -q "\"GracefulShutdown/$version\"" build/package-smoke/obj/project.assets.json; then
  echo "package smoke: the consumer did not restore GracefulShutdown $version from the package feed" >&2
  exit 1
fi

dotnet "$work/out/PackageConsumer.dll" --urls http://127.0.0.1:0 > "$work/log" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'Now listening on: http://127.0.0.1:[0-9]*' "$work/log" | head -1 | sed 's/Now listening on: //' || true)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "package smoke: consumer did not start"; cat "$work/log"; exit 1; }

status=""
for _ in $(seq 1 100); do
  status="$(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready" || true)"
  [ "$status" = "200" ] && break
  sleep 0.1
done
[ "$status" = "200" ] || { echo "package smoke: readiness answered '$status'"; cat "$work/log"; exit 1; }

kill -TERM "$pid"
code=0; wait "$pid" || code=$?
pid=""
[ "$code" = "0" ] || { echo "package smoke: exit code $code after SIGTERM"; cat "$work/log"; exit 1; }
grep -q "Shutdown sequence complete" "$work/log" || { echo "package smoke: no shutdown log"; cat "$work/log"; exit 1; }
echo "package smoke: GracefulShutdown $version from build/feed: readiness 200 at $url/health/ready, exit code 0 after SIGTERM"

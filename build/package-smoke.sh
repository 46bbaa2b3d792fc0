#!/usr/bin/env bash
# Packaging smoke test: pack the libraries into the repo-local feed and check what a user of the public gallery gets
# (README with absolute links, license, icon, XML docs, symbols package, no test-only types), then build a consumer that
# references them as NuGet PackageReferences (as users get them), start it, probe its readiness, and stop it with SIGTERM; then
# run a user's xunit test project (build/package-smoke/UserTests) that proves, with GracefulShutdown.Testing from the feed, a
# rolling update of the consumer's own app: plain loses requests, the library none; both reports are printed. The same consumer
# as a Worker Service with a GracefulShutdown.RabbitMQ consumer (no broker needed): bad options fail its start naming key and
# value; with the broker down it is live, not ready, and exits 0 after SIGTERM.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

version="0.1.0-smoke.$(date +%s)"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "package smoke: $*" >&2; exit 1; }

packages=(GracefulShutdown GracefulShutdown.Eureka GracefulShutdown.Grpc GracefulShutdown.Kubernetes GracefulShutdown.RabbitMQ GracefulShutdown.Testing)
for id in "${packages[@]}"; do
  dotnet pack "src/$id/$id.csproj" -c Release -o build/feed -p:Version="$version" --nologo -v q
done

# What the gallery shows and what the user's build and debugger get, package by package.
assemblies=()
for id in "${packages[@]}"; do
  nupkg="build/feed/$id.$version.nupkg"
  snupkg="build/feed/$id.$version.snupkg"
  [ -f "$nupkg" ] || fail "$nupkg was not packed"
  files="$(unzip -Z1 "$nupkg")"
  for file in README.md LICENSE icon.png "lib/net10.0/$id.dll" "lib/net10.0/$id.xml"; do
    grep -qxF "$file" <<<"$files" || fail "$id: $file is missing from the package"
  done
  nuspec="$(unzip -p "$nupkg" "$id.nuspec")"
  for element in '<readme>README.md</readme>' '<icon>icon.png</icon>' '<license type="expression">MIT</license>' \
    '<projectUrl>https://github.com/graceful-shutdown/GracefulShutdown</projectUrl>'; do
    grep -qF "$element" <<<"$nuspec" || fail "$id: the nuspec has no $element"
  done
  relative="$(unzip -p "$nupkg" README.md | grep -oE '\]\([^)]*\)' | grep -vE '^\]\((https?://|#)' || true)"
  [ -z "$relative" ] || fail "$id: README.md has links the gallery cannot resolve: $relative"
  [ -f "$snupkg" ] || fail "$snupkg (symbols) was not packed"
  # The listing is read whole before grep: 'unzip | grep -q' under pipefail fails when grep stops reading early (SIGPIPE).
  symbols="$(unzip -Z1 "$snupkg")"
  grep -qxF "lib/net10.0/$id.pdb" <<<"$symbols" || fail "$id: the symbols package has no lib/net10.0/$id.pdb"
  mkdir -p "$work/lib"
  unzip -p "$nupkg" "lib/net10.0/$id.dll" > "$work/lib/$id.dll"
  assemblies+=("$work/lib/$id.dll")
done

dotnet build build/package-smoke/PackageConsumer.csproj -c Release -o "$work/out" -p:GracefulShutdownVersion="$version" --nologo -v q
dotnet build build/package-smoke/UserTests/UserTests.csproj -c Release -p:GracefulShutdownVersion="$version" --nologo -v q

for id in "${packages[@]}"; do
  grep -qh "\"$id/$version\"" build/package-smoke/obj/project.assets.json build/package-smoke/UserTests/obj/project.assets.json ||
    fail "the consumer and its tests did not restore $id $version from the package feed"
done

dotnet "$work/out/PackageConsumer.dll" --check-types "${assemblies[@]}" || fail "the packages ship test-only types"

# Outside a pod (no POD_NAME) the Kubernetes add-on stays off with one line and makes no call.
env -u POD_NAME -u POD_NAMESPACE dotnet "$work/out/PackageConsumer.dll" --urls http://127.0.0.1:0 > "$work/log" 2>&1 &
pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'Now listening on: http://127.0.0.1:[0-9]*' "$work/log" | head -1 | sed 's/Now listening on: //' || true)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/log"; fail "the consumer did not start"; }

status=""
for _ in $(seq 1 100); do
  status="$(curl -s -o /dev/null -w '%{http_code}' "$url/health/ready" || true)"
  [ "$status" = "200" ] && break
  sleep 0.1
done
[ "$status" = "200" ] || { cat "$work/log"; fail "readiness answered '$status'"; }

kill -TERM "$pid"
code=0; wait "$pid" || code=$?
pid=""
[ "$code" = "0" ] || { cat "$work/log"; fail "exit code $code after SIGTERM"; }
grep -Eq 'GracefulShutdown[.A-Za-z]*\[106\]' "$work/log" || { cat "$work/log"; fail "no shutdown-complete event (106) in the log"; }
grep -Eq 'GracefulShutdown\.Kubernetes[.A-Za-z]*\[500\]' "$work/log" || { cat "$work/log"; fail "the Kubernetes add-on did not say it is off outside a pod (500)"; }
# The user's own test of a rolling update, with GracefulShutdown.Testing from the package: the plain app must lose requests, the
# library app none. Its output (both reports, the run times) is printed as the test runner shows it.
dotnet test build/package-smoke/UserTests/UserTests.csproj -c Release --no-build -p:GracefulShutdownVersion="$version" --nologo \
  --logger "console;verbosity=detailed" > "$work/usertests" 2>&1 || { cat "$work/usertests"; fail "the user's rollout tests failed"; }
sed -n '/^  Passed \|^  Failed \|^    Standard Output Messages:/,/^$/p; /^Passed!\|^Failed!\|^Total tests/p' "$work/usertests"

# GracefulShutdown.RabbitMQ from the package, in a Worker Service. Bad options: start-up fails, naming key and value.
code=0
dotnet "$work/out/PackageConsumer.dll" --worker --GracefulShutdown:RabbitMQ:orders:Url=http://127.0.0.1/ \
  --GracefulShutdown:RabbitMQ:orders:Queue=orders --GracefulShutdown:RabbitMQ:orders:Prefetch=0 > "$work/worker-bad" 2>&1 || code=$?
[ "$code" != 0 ] || { cat "$work/worker-bad"; fail "the worker started with bad RabbitMQ options"; }
for message in 'GracefulShutdown:RabbitMQ:orders:Url (http://127.0.0.1/) must be an absolute amqp:// or amqps:// URL.' \
  'GracefulShutdown:RabbitMQ:orders:Prefetch (0) must be from 1 to 65535.'; do
  grep -qF "$message" "$work/worker-bad" || { cat "$work/worker-bad"; fail "no validation message: $message"; }
done

# The broker down (a loopback port nothing listens on): live, not ready, retrying (event 451); SIGTERM: exit code 0.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
management="$(free_port)"
down="amqp://guest:guest@127.0.0.1:$(free_port)/"
dotnet "$work/out/PackageConsumer.dll" --worker --GracefulShutdown:RabbitMQ:orders:Url="$down" \
  --GracefulShutdown:RabbitMQ:orders:Queue=orders --GracefulShutdown:ManagementPort="$management" > "$work/worker" 2>&1 &
pid=$!
live=""
for _ in $(seq 1 100); do
  live="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$management/health/live" || true)"
  [ "$live" = "200" ] && grep -q 'GracefulShutdown.RabbitMQ\[451\]' "$work/worker" && break
  sleep 0.1
done
[ "$live" = "200" ] || { cat "$work/worker"; fail "the worker's liveness answered '$live'"; }
grep -q 'GracefulShutdown.RabbitMQ\[451\]' "$work/worker" || { cat "$work/worker"; fail "no broker-unreachable event (451)"; }
worker_ready="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$management/health/ready" || true)"
[ "$worker_ready" = "503" ] || { cat "$work/worker"; fail "the worker's readiness answered '$worker_ready' with the broker down"; }
kill -TERM "$pid"
code=0; wait "$pid" || code=$?
pid=""
[ "$code" = "0" ] || { cat "$work/worker"; fail "the worker's exit code was $code after SIGTERM"; }

echo "package smoke: ${packages[*]} $version from build/feed: README, LICENSE, icon, XML docs, symbols, no test-only types;" \
  "readiness 200 at $url/health/ready, exit code 0 after SIGTERM; the user's rollout tests of its own app: plain loses requests, library none;" \
  "RabbitMQ worker: bad options fail its start, broker down: live 200, ready $worker_ready, exit code 0 after SIGTERM"

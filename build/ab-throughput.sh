#!/usr/bin/env bash
# Whole-server A/B: wrk saturates GET / on the sample with the library (A) and without it (B, --Sample:UseLibrary=false),
# alternating A/B (ABBA order) several times in one run, and prints the throughput ratio A/B.
# Usage: build/ab-throughput.sh [pairs=5] [seconds=10] [connections=64]
# Env: AB_SKIP_BUILD=1 skips the build; AB_OUT=dir for the result files (default artifacts/ab).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
pairs="${1:-5}"; secs="${2:-10}"; conns="${3:-64}"; threads=2
out="${AB_OUT:-$repo/artifacts/ab}"; mkdir -p "$out"
dll="$repo/samples/GracefulShutdown.Sample/bin/Release/net10.0/GracefulShutdown.Sample.dll"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
[[ "${AB_SKIP_BUILD:-}" == 1 ]] || timeout 300 dotnet build "$repo/samples/GracefulShutdown.Sample" -c Release -nologo -v q -clp:ErrorsOnly

pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pa=$(free_port); pb=$(free_port)
dotnet "$dll" --urls "http://127.0.0.1:$pa" --Logging:LogLevel:Default=Warning >"$out/app-library.log" 2>&1 & pids+=($!)
dotnet "$dll" --urls "http://127.0.0.1:$pb" --Logging:LogLevel:Default=Warning --Sample:UseLibrary=false >"$out/app-plain.log" 2>&1 & pids+=($!)
for p in $pa $pb; do
  for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.1; done
done

run() { # port -> req/s
  timeout $((secs + 20)) wrk -t$threads -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$1/" >"$out/wrk-last.txt"
  awk '/^Requests\/sec:/ {print $2}' "$out/wrk-last.txt"
}
# Warm-up both (JIT, tiered compilation, connection pools).
run $pa >/dev/null; run $pb >/dev/null

echo "| Pair | Library req/s | Plain req/s | Ratio |"
echo "|---:|---:|---:|---:|"
sa=0; sb=0; ratios=()
for i in $(seq "$pairs"); do
  if (( i % 2 )); then a=$(run $pa); b=$(run $pb); else b=$(run $pb); a=$(run $pa); fi
  r=$(python3 -c "print(f'{$a/$b:.4f}')"); ratios+=("$r")
  sa=$(python3 -c "print($sa+$a)"); sb=$(python3 -c "print($sb+$b)")
  echo "| $i | $a | $b | $r |"
done
python3 - "$sa" "$sb" "${ratios[@]}" <<'PY'
import statistics, sys
sa, sb = float(sys.argv[1]), float(sys.argv[2]); rs = [float(x) for x in sys.argv[3:]]
print(f"\nTotal ratio (sum library / sum plain): {sa/sb:.4f}; median pair ratio: {statistics.median(rs):.4f}; min {min(rs):.4f}, max {max(rs):.4f}")
PY

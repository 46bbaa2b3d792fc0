#!/usr/bin/env bash
# Whole-server A/B: wrk saturates GET / on the sample with the library (A) and without it (B, --Sample:UseLibrary=false)
# and prints the throughput ratio A/B.
#
# Usage: build/ab-throughput.sh [mode=both] [windows=10] [seconds=5] [connections=32]
#   mode alternate : A and B loaded one after the other (ABBA order), each window by itself.
#   mode concurrent: A and B loaded at the same time, both servers pinned to the same CPU; each window's ratio
#                    compares two servers that saw the same machine noise. Half the windows run with the start order
#                    of the two servers swapped, to cancel any position bias.
#   mode both      : concurrent, then alternate.
# The result per mode is the median of the per-window ratios. Env: AB_SKIP_BUILD=1 skips the build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
mode="${1:-both}"; windows="${2:-10}"; secs="${3:-5}"; conns="${4:-32}"
dll="$repo/samples/GracefulShutdown.Sample/bin/Release/net10.0/GracefulShutdown.Sample.dll"
out="${AB_OUT:-$repo/artifacts/ab}"; mkdir -p "$out"

missing=(); for c in wrk curl python3; do command -v $c >/dev/null || missing+=($c); done
if ((${#missing[@]})); then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; fi
[[ "${AB_SKIP_BUILD:-}" == 1 ]] || timeout 300 dotnet build "$repo/samples/GracefulShutdown.Sample" -c Release -nologo -v q -clp:ErrorsOnly

# Servers on CPU 0, wrk on CPU 1 (2+ cores), so load generator and server do not fight over one core.
if (( $(nproc) >= 2 )) && command -v taskset >/dev/null; then srv=(taskset -c 0); cli=(taskset -c 1); else srv=(); cli=(); fi

pids=()
cleanup() { for p in "${pids[@]}"; do { kill -KILL "$p"; wait "$p"; } 2>/dev/null || true; done; pids=(); }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start() { # var name extra-args... ; sets $var to the port. Not run in $(...): the pid must reach this shell's list.
  local var=$1 name=$2; shift 2; local port; port=$(free_port)
  "${srv[@]}" dotnet "$dll" --urls "http://127.0.0.1:$port" --Logging:LogLevel:Default=Warning "$@" >"$out/app-$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.1; done
  printf -v "$var" '%s' "$port"
}
load() { # port seconds outfile
  timeout $(($2 + 20)) "${cli[@]}" wrk -t1 -c"$conns" -d"$2s" "http://127.0.0.1:$1/" >"$3"
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
summary() { # label ratios...
  python3 - "$@" <<'PY'
import statistics, sys
label, rs = sys.argv[1], [float(x) for x in sys.argv[2:]]
q = statistics.quantiles(rs, n=4) if len(rs) >= 2 else [rs[0]] * 3
print(f"\n{label}: median ratio library/plain {statistics.median(rs):.4f} (interquartile {q[0]:.4f} to {q[2]:.4f}; "
      f"min {min(rs):.4f}, max {max(rs):.4f}; {len(rs)} windows)\n")
PY
}
ratio() { python3 -c "print(f'{$1/$2:.4f}')"; }

echo "server: ${srv[*]:-any CPU}; wrk: ${cli[*]:-any CPU} -t1 -c$conns, ${secs} s windows, GET /"

if [[ $mode == concurrent || $mode == both ]]; then
  echo; echo "### Concurrent (both servers on one CPU, loaded at the same time)"; echo
  echo "| Window | Start order | Library req/s | Plain req/s | Ratio |"; echo "|---:|---|---:|---:|---:|"
  rs=(); half=$(( (windows + 1) / 2 )); w=0
  for order in lib-first plain-first; do
    if [[ $order == lib-first ]]; then start pa library; start pb plain --Sample:UseLibrary=false
    else start pb plain --Sample:UseLibrary=false; start pa library; fi
    # Warm-up: tiered JIT needs a while at half a CPU each. Wait for the load only: a bare `wait` would wait for the servers.
    load "$pa" 20 /dev/null & warm=$!; load "$pb" 20 /dev/null; wait "$warm"
    for _ in $(seq "$half"); do
      (( w < windows )) || break; w=$((w + 1))
      load "$pa" "$secs" "$out/a.txt" & first=$!; load "$pb" "$secs" "$out/b.txt"; wait "$first"
      a=$(rps "$out/a.txt"); b=$(rps "$out/b.txt"); r=$(ratio "$a" "$b"); rs+=("$r")
      echo "| $w | $order | $a | $b | $r |"
    done
    cleanup
  done
  summary "Concurrent" "${rs[@]}"
fi

if [[ $mode == alternate || $mode == both ]]; then
  echo "### Alternate (one server loaded at a time, ABBA order)"; echo
  echo "| Window | Library req/s | Plain req/s | Ratio |"; echo "|---:|---:|---:|---:|"
  start pa library; start pb plain --Sample:UseLibrary=false
  load "$pa" 5 /dev/null; load "$pb" 5 /dev/null   # warm-up
  rs=()
  for i in $(seq "$windows"); do
    if (( i % 2 )); then load "$pa" "$secs" "$out/a.txt"; load "$pb" "$secs" "$out/b.txt"
    else load "$pb" "$secs" "$out/b.txt"; load "$pa" "$secs" "$out/a.txt"; fi
    a=$(rps "$out/a.txt"); b=$(rps "$out/b.txt"); r=$(ratio "$a" "$b"); rs+=("$r")
    echo "| $i | $a | $b | $r |"
  done
  cleanup
  summary "Alternate" "${rs[@]}"
fi

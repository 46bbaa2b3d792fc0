#!/usr/bin/env python3
"""Rollout benchmark for long-lived connections: WebSockets and SignalR through a rolling update.

The same model as rollout.py (HAProxy in http mode as the Service, real replicas of samples/GracefulShutdown.Sample,
Kubernetes-style termination: endpoint removal L seconds after termination begins, in parallel with preStop -> SIGTERM ->
SIGKILL at the grace period), with other clients: build/longlived-load keeps N real clients connected through HAProxy
(ClientWebSocket against GET /ws, or the real SignalR client with automatic reconnect calling Echo on /hub). Every client
sends a message every --interval-ms, waits for its echo, reconnects whenever the server closes its connection and resends a
message the closing connection cut. Reported per variant: messages echoed, resent and lost, how connections ended (1001 =
closed by a replica going away, 1000 = normal close, 1006 = dropped without a close frame), and termination -> exit per replica.

Run it through longlived.sh (installs haproxy when missing, builds the sample and the load client).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rollout  # noqa: E402  (shared helpers: processes, HAProxy, replicas, Kubernetes-style termination)
from rollout import log  # noqa: E402

LOAD_DLL = os.path.join(rollout.REPO, "build", "longlived-load", "bin", "Release", "net10.0", "LongLivedLoad.dll")

VARIANTS = {
    "plain": dict(name="plain", title="Plain ASP.NET Core, SIGTERM only", library=False, prestop=None),
    # The classic recipe users hand-roll: lifecycle.preStop.sleep (--prestop-sleep, 15 s) before SIGTERM.
    "plain-sleep": dict(name="plain-prestop-sleep", title="Plain ASP.NET Core, preStop sleep {sleep:g} s", library=False, prestop="sleep"),
    "library": dict(name="library-sigterm", title="Library, SIGTERM only", library=True, prestop=None),
    "library-prestop": dict(name="library-prestop-http", title="Library, preStop httpGet /lifecycle/prestop", library=True, prestop="http"),
}


def run_variant(mode, key, args, ports, outdir):
    v = dict(VARIANTS[key], title=VARIANTS[key]["title"].format(sleep=args.prestop_sleep))
    label = f"longlived-{mode}-hc{args.health_checks}-L{args.lag:g}-{v['name']}"
    log(f"== {mode}: {v['title']} (L = {args.lag:g} s, health checks {args.health_checks}) ==")
    haproxy = rollout.HAProxy(outdir, ports.take(), rollout.v_check_path(v), args.health_checks == "on", label,
                              check_params=args.check_params)
    haproxy.start()
    serial = [0]

    def new_replica():
        serial[0] += 1
        return rollout.Replica(f"r{serial[0]}", ports.take(), v, args, outdir, label)

    live = [new_replica() for _ in range(args.replicas)]
    for r in live:
        r.wait_ready(args.ready_timeout)
        haproxy.add(r.name, r.port)
        if not haproxy.wait_up(r.name):
            raise RuntimeError(f"haproxy never saw {r.name} up")
    log(f"  {len(live)} replicas ready: " + ", ".join(f"{r.name}:{r.port}" for r in live))

    load_out = os.path.join(outdir, f"{label}-load.json")
    if os.path.exists(load_out):
        os.remove(load_out)
    # The load stops by itself at --duration-s even if this harness never signals it.
    cap = int(args.rounds * args.replicas * (args.grace + 30) + 2 * args.settle + 60)
    load = rollout.spawn(["dotnet", args.load_dll, "--mode", mode, "--url", f"http://127.0.0.1:{haproxy.port}",
                          "--clients", str(args.clients), "--interval-ms", str(args.interval_ms),
                          "--duration-s", str(min(cap, 3600)), "--out", load_out],
                         os.path.join(outdir, f"{label}-load.txt"))
    load_start = time.time()
    time.sleep(args.settle)

    terminated, threads = [], []
    for rnd in range(1, args.rounds + 1):
        log(f"  round {rnd}")
        for i in range(len(live)):
            old = live[i]
            new = new_replica()
            new.wait_ready(args.ready_timeout)
            haproxy.add(new.name, new.port)
            if not haproxy.wait_up(new.name):
                raise RuntimeError(f"haproxy never saw {new.name} up")
            log(f"    {new.name} (:{new.port}) ready and added; terminating {old.name} (:{old.port})")
            live[i] = new
            th = threading.Thread(target=rollout.terminate, args=(old, haproxy, args, rnd), daemon=True)
            th.start()
            threads.append(th)
            terminated.append(old)
            if args.sequential:
                th.join(timeout=args.grace + 10)
        for th in threads:
            th.join(timeout=args.grace + 10)
        threads = []
    time.sleep(args.settle)
    load.send_signal(signal.SIGINT)  # the clients close their connections and the summary is written
    try:
        load.wait(timeout=30)
    except subprocess.TimeoutExpired:
        load.kill()
    load_s = time.time() - load_start

    rollout.stop_all(live, haproxy, replica_timeout=40)

    with open(load_out) as f:
        result = json.load(f)
    endings = result.get("endings", {})
    server_endings = {k: c for k, c in endings.items() if k != "client-stop"}
    exits = [t.get("exit_after_s") for t in (r.result for r in terminated) if t]
    return dict(mode=mode, variant=key, name=v["name"], title=v["title"], lag_s=args.lag, health_checks=args.health_checks,
                rounds=args.rounds, replicas=args.replicas, clients=args.clients, interval_ms=args.interval_ms,
                load_s=round(load_s, 1), echoed=result["echoed"], resent=result["resent"], lost=result["lost"],
                mismatched=result["mismatched"], connects=result["connects"], connect_failures=result["connect_failures"],
                endings=endings, server_endings=server_endings, latency_ms=result["latency_ms"],
                exit_after_s=exits, terminations=[r.result for r in terminated if r.result], label=label)


def clean(r):
    """Every connection a replica ended was closed with 1001 (or SignalR's clean 1000), none dropped, nothing lost."""
    bad = {k: c for k, c in r["server_endings"].items() if k not in ("1001", "1000")}
    return r["lost"] == 0 and r["mismatched"] == 0 and not bad


def markdown(results, args):
    lines = [f"Rounds: {args.rounds} x {args.replicas} replicas; grace period {args.grace:g} s; {args.clients} clients, a message "
             f"every {args.interval_ms} ms each, through HAProxy (http mode). Endings: how connections were ended by the server "
             f"(1001 going away, 1000 normal, 1006 dropped without a close frame).",
             "",
             "| Clients | Checks | L (s) | Variant | Echoed | Resent | Lost | Endings | Connect failures | p50 ms | p99 ms | max ms | Termination → exit, s (exit code) |",
             "|---|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        endings = ", ".join(f"{k}: {c}" for k, c in sorted(r["server_endings"].items())) or "none"
        terms = ", ".join(f"{t.get('exit_after_s', float('nan')):.1f} ({t.get('exit_code', '?')}{', SIGKILL' if t.get('killed') else ''})"
                          for t in r["terminations"])
        lat = r["latency_ms"]
        lines.append(f"| {'WebSocket' if r['mode'] == 'ws' else 'SignalR'} | {r['health_checks']} | {r['lag_s']:g} | {r['title']} | "
                     f"{r['echoed']} | {r['resent']} | {r['lost']} | {endings} | {r['connect_failures']} | {lat['p50']} | {lat['p99']} | "
                     f"{lat['max']} | {terms} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true", help="CI run: WebSocket and SignalR, one round, L = 1 s; exits 1 if a library variant is not clean")
    ap.add_argument("--modes", default="ws,signalr", help="comma-separated: ws, signalr")
    ap.add_argument("--variants", default="plain,plain-sleep,library,library-prestop", help="comma-separated: " + ", ".join(VARIANTS))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--lags", default="1")
    ap.add_argument("--grace", type=float, default=30)
    ap.add_argument("--prestop-sleep", type=float, default=15)
    ap.add_argument("--health-checks", default="on")
    ap.add_argument("--check-params", default="inter 1s fall 1 rise 1", help="HAProxy's check parameters when checks are on")
    ap.add_argument("--removal", default="lag", choices=["lag", "checks"],
                    help="lag: the harness removes the endpoint L s after termination begins; checks: only HAProxy's health checks "
                         "take it out of the rotation (the endpoint is deleted once the process is gone)")
    ap.add_argument("--checked-goal", type=float, default=9.5,
                    help="with --removal checks: library replicas must be gone within this many seconds of their termination's "
                         "start (Minimum 5 s + close window 2 s + 2.5 s); a miss prints GOAL NOT MET (not an exit code)")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--interval-ms", type=int, default=50)
    ap.add_argument("--settle", type=float, default=3)
    ap.add_argument("--sequential", action="store_true", help="wait for each old replica to exit before replacing the next")
    ap.add_argument("--warm-paths", default="")
    ap.add_argument("--ready-timeout", type=float, default=30)
    ap.add_argument("--base-port", type=int, default=19600)
    ap.add_argument("--dll", default=rollout.DEFAULT_DLL)
    ap.add_argument("--load-dll", default=LOAD_DLL)
    ap.add_argument("--out", default=os.path.join(rollout.REPO, "artifacts", "rollout"))
    ap.add_argument("--app-arg", action="append", default=[], help="extra argument for every replica (repeatable)")
    args = ap.parse_args()
    if args.short:
        args.rounds, args.lags, args.settle, args.health_checks = 1, "1", 2, "on"
        args.variants = "library"

    args.out = os.path.abspath(args.out)  # HAProxy reads a relative admin-socket path as host:port
    os.makedirs(args.out, exist_ok=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))

    ports = rollout.Ports(args.base_port)
    results, status = [], 0
    try:
        for mode in args.modes.split(","):
            for lag in [float(x) for x in args.lags.split(",")]:
                args.lag = lag
                for key in args.variants.split(","):
                    r = run_variant(mode, key, args, ports, args.out)
                    results.append(r)
                    log(f"  -> echoed {r['echoed']}, resent {r['resent']}, lost {r['lost']}, endings {r['server_endings']}, "
                        f"termination -> exit {r['exit_after_s']} s")
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    finally:
        rollout.kill_all()

    if results:
        md = markdown(results, args)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        report = dict(started=time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(rollout.T0)), argv=sys.argv[1:], machine=rollout.machine(),
                      settings={k: getattr(args, k) for k in ("modes", "variants", "rounds", "replicas", "lags", "grace", "health_checks",
                                                             "clients", "interval_ms", "app_arg")},
                      results=results)
        with open(os.path.join(args.out, f"longlived-{stamp}.json"), "w") as f:
            json.dump(report, f, indent=2)
        with open(os.path.join(args.out, f"longlived-{stamp}.md"), "w") as f:
            f.write(md + "\n")
        print()
        print(md)
        print()
        print(f"JSON: {os.path.join(args.out, f'longlived-{stamp}.json')}")
        print(f"Load average (1, 5, 15 min): {report['machine']['load_average_at_start']} at the start, "
              f"{report['machine']['load_average_at_end']} at the end")
        for r in results:
            if VARIANTS[r["variant"]]["library"] and not clean(r):
                print(f"FAIL: {r['mode']} {r['name']} (L = {r['lag_s']:g} s): lost {r['lost']}, endings {r['server_endings']}; "
                      f"see {r['label']}-*.log in {args.out}", file=sys.stderr)
                status = status or 1
        if args.removal == "checks":
            for r in results:
                slow = [t for t in r["exit_after_s"] if t is not None and t > args.checked_goal]
                if VARIANTS[r["variant"]]["library"] and slow:
                    print(f"GOAL NOT MET: {r['mode']} {r['name']}: {len(slow)} of {len(r['exit_after_s'])} replicas took longer than "
                          f"{args.checked_goal:g} s ({', '.join(f'{t:.1f}' for t in slow)} s)")
    sys.exit(status)


if __name__ == "__main__":
    main()

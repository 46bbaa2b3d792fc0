#!/usr/bin/env python3
"""Rollout benchmark: a Kubernetes rolling update modelled on loopback with real parts.

HAProxy is the Service (round robin, readiness health checks, retries 0, no redispatch, pooled keep-alive
connections to the servers); replicas are real processes of samples/GracefulShutdown.Sample; wrk puts constant
keep-alive load on the frontend for the whole run. Each rolling update replaces every replica: start a new one,
wait until it is ready, add it to HAProxy, then terminate an old one the way Kubernetes does: endpoint removal
L seconds after termination begins (propagation lag), in parallel with kubelet's preStop -> SIGTERM -> SIGKILL.

Besides that model ("rollout"), the harness runs these with the same parts (--models):
  sparse    one caller, one request every 2.5 s through the balancer, L = 8 s, no health checks: every lost request listed
  busy      wrk at >= 300 req/s, L = 8 s, no health checks: how long each replica takes to go
  load1000  wrk with 1,000 keep-alive connections through the rollout
  fallback  one replica; its replacement becomes ready only after a delay; the terminating replica stays in HAProxy while
            its readiness passes, until the replacement is ready (kube-proxy's terminating-endpoint fallback, KEP-1669)
  checked-sparse  the sparse caller behind HAProxy health checks (inter 1s fall 2) that are the only way out of the rotation
  checked-slow    the same behind a slow balancer (inter 2s fall 3), the library's Maximum 60 s

Run it through run.sh (installs haproxy/wrk when missing and builds the sample). See docs/rollout-benchmark.md.
"""
import argparse
import os
import resource
import signal
import sys

import report
from harness import DEFAULT_DLL, REPO, T0, Ports, kill_all, log, spawn  # noqa: F401  (also used by longlived.py)
from balancer import HAProxy, v_check_path  # noqa: F401  (used by longlived.py)
from control_plane import ensure_server
from models import DEFAULT_VARIANTS, MODELS, VARIANTS, model_args
from replicas import Replica, stop_all, terminate  # noqa: F401  (used by longlived.py)
from report import fmt_ratio, fmt_terms, machine  # noqa: F401  (machine: used by longlived.py)
from rolling_update import run_model, run_variant

# The harness is split by concern into the modules next to this file, imported without a package:
#   harness.py         log, child processes (killed with the harness), ports, HTTP GET
#   models.py          the variants 1-8 and the models (rollout, sparse, busy, load1000, fallback)
#   balancer.py        HAProxy as the Service: config and runtime API
#   replicas.py        replicas of the sample: start, readiness, Kubernetes-style termination
#   control_plane.py   variants 7 and 8: Pods and the EndpointSlice in the Kubernetes API stand-in, kept as the control plane would
#   loadgen.py         wrk and the paced callers
#   rolling_update.py  one variant's rolling update; a model's variants in sequence or side by side
#   report.py          summaries, markdown, JSON, the verdict lines
# This file is the entry point (command line, the loop over models, exit code).


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))  # raising the hard limit needs root
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    log(f"open files limit {soft} -> {resource.getrlimit(resource.RLIMIT_NOFILE)[0]} (children inherit it)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true",
                    help="CI run: the rollout model with one round, L = 1 s, checks on, variants 1,3,4, then the sparse "
                         "model (variants 1-4 side by side); exits 1 if a library variant loses a request")
    ap.add_argument("--models", default=None,
                    help="comma-separated: rollout, sparse, busy, load1000, fallback, checked-sparse, checked-slow "
                         "(default: all; with --short rollout,sparse)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--lags", default="1,5", help="propagation lags L in seconds, comma-separated")
    ap.add_argument("--variants", default=None,
                    help="comma-separated variant numbers for every model (default: 1,2,3,4; fallback 1-8). 5 and 6 pass "
                         "GracefulShutdown__Endpoints__ReadinessFailureDelay (--readiness-delay); 7 and 8 run the Kubernetes "
                         "add-on against the API stand-in (build/k8s-standin-server), which the harness keeps as the control plane")
    ap.add_argument("--grace", type=float, default=30, help="terminationGracePeriodSeconds")
    ap.add_argument("--prestop-sleep", type=float, default=15)
    ap.add_argument("--health-checks", default="on,off",
                    help="comma-separated modes: on = HAProxy active readiness checks (inter 1s fall 1 rise 1) as well as removal at L; "
                         "off = endpoint removal only at L, like kube-proxy")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--settle", type=float, default=3, help="seconds of load before the first and after the last replacement")
    ap.add_argument("--warm-paths", default="",
                    help="comma-separated paths the harness requests once on a new replica after it is ready and before adding it "
                         "(a diagnostic for cold-start latency; off by default)")
    ap.add_argument("--ready-timeout", type=float, default=30)
    ap.add_argument("--base-port", type=int, default=19100)
    ap.add_argument("--dll", default=DEFAULT_DLL)
    ap.add_argument("--out", default=os.path.join(REPO, "artifacts", "rollout"))
    ap.add_argument("--app-arg", action="append", default=[], help="extra argument for every replica (repeatable), e.g. --app-arg=--GracefulShutdown:TrafficWait:Minimum=00:00:05")
    ap.add_argument("--readiness-delay", default="00:00:15",
                    help="GracefulShutdown:Endpoints:ReadinessFailureDelay for variants 5 and 6 (environment variable)")
    m = ap.add_argument_group("models")
    m.add_argument("--sparse-interval", type=float, default=2.5, help="seconds between the sparse caller's requests")
    m.add_argument("--sparse-lag", type=float, default=8)
    m.add_argument("--sparse-rounds", type=int, default=2)
    m.add_argument("--sparse-settle", type=float, default=2.5)
    m.add_argument("--sparse-sequential", action="store_true", help="run the sparse variants one after the other, not side by side")
    m.add_argument("--busy-lag", type=float, default=8)
    m.add_argument("--busy-rounds", type=int, default=2)
    m.add_argument("--busy-connections", type=int, default=16)
    m.add_argument("--busy-goal-margin", type=float, default=0.7, help="goal: library replicas gone within L + this (reported, not enforced)")
    m.add_argument("--load1000-connections", type=int, default=1000)
    m.add_argument("--load1000-threads", type=int, default=2)
    m.add_argument("--load1000-lag", type=float, default=2)
    m.add_argument("--load1000-rounds", type=int, default=2)
    m.add_argument("--load1000-connect-timeout", type=float, default=10, help="HAProxy's timeout connect in this model (s)")
    m.add_argument("--checked-rounds", type=int, default=2, help="rounds of the checked-sparse and checked-slow models")
    m.add_argument("--fallback-warmup-ms", type=int, default=3000, help="start-up delay before a fallback replacement is ready")
    m.add_argument("--fallback-rounds", type=int, default=2)
    m.add_argument("--fallback-callers", type=int, default=8)
    m.add_argument("--fallback-interval", type=float, default=0.1, help="seconds between each fallback caller's requests")
    args = ap.parse_args()
    if args.short:
        args.rounds, args.lags, args.settle, args.health_checks = 1, "1", 2, "on"
    models = (args.models or ("rollout,sparse" if args.short else ",".join(MODELS))).split(",")
    for model in models:
        if model not in MODELS:
            ap.error(f"unknown model '{model}'; known: {', '.join(MODELS)}")

    args.out = os.path.abspath(args.out)  # HAProxy reads a relative admin-socket path as host:port
    os.makedirs(args.out, exist_ok=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))
    if "load1000" in models:
        raise_fd_limit(8 * args.load1000_connections + 4096)

    ports = Ports(args.base_port)
    results = []
    status = 0
    try:
        for model in models:
            default = DEFAULT_VARIANTS[model]
            if args.short and model == "rollout":
                default = "1,3,4"  # the 15 s sleep's 25 s buy nothing in CI; the sparse model runs it side by side
            vids = [int(x) for x in (args.variants or default).split(",")]
            if any(VARIANTS[vid].get("kubernetes") for vid in vids):
                ensure_server(args.out)  # the Kubernetes API stand-in for variants 7 and 8, from the main thread
            if model != "rollout":
                margs = model_args(args, model)
                log(f"=== model {model}: {margs.description}")
                for r in run_model(model, margs, vids, ports, args.out, parallel=model in ("sparse", "checked-sparse", "checked-slow") and not args.sparse_sequential):
                    results.append(r)
                    if r.get("skipped"):
                        continue
                    log(f"  -> {model} v{r['variant']}: {r['attempts']} requests, {r['rate']:.1f} req/s, "
                        f"success {r['ok']}/{r['attempts']} ({fmt_ratio(r['success_ratio'])}), lost {r['lost']}, "
                        f"termination -> exit {fmt_terms(r)}")
                continue
            modes = args.health_checks
            for mode in modes.split(","):
                for lag in [float(x) for x in args.lags.split(",")]:
                    args.lag = lag
                    args.health_checks = mode
                    for vid in vids:
                        results.append(run_variant(vid, model_args(args, "rollout"), ports, args.out))
                        r = results[-1]
                        log(f"  -> {r['requests']} requests, {r['rate']:.0f} req/s, success {fmt_ratio(r['success_ratio'])}, lost {r['lost']}")
            args.health_checks = modes
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    finally:
        kill_all()

    if results:
        report.write(results, args, models)
        failed = report.verdict(results, args)  # always printed, also after an interrupt
        status = status or failed
    sys.exit(status)


if __name__ == "__main__":
    main()

"""The report: per-variant summaries (wrk's JSON or the paced callers' records, every lost request traced to a replica
through HAProxy's error log), the markdown tables, the JSON file, and the verdict lines on stderr."""
import json
import os
import platform
import re
import subprocess
import sys
import time

from harness import LOAD_AT_START, T0
from models import CHECKED_GOALS, MODELS, VARIANTS


def summarize(vid, v, args, w, terminated, events, load_s, haproxy_log, label):
    statuses = {int(k): c for k, c in w["statuses"].items()}
    e = w["errors"]
    transport = e["connect"] + e["read"] + e["write"] + e["timeout"]
    ok = sum(c for s, c in statuses.items() if 200 <= s < 300)
    # Attempts = responses + transport errors (a failed connect, read, write or timeout is a request that got no answer).
    attempts = w["requests"] + transport
    success = ok / attempts if attempts else 0.0
    haproxy_errors = []
    try:
        with open(haproxy_log) as f:
            # Skip wrk's own connections cut when it stops (client-side abort before any request).
            haproxy_errors = [line.rstrip() for line in f if " fe " in line and "<BADREQ>" not in line]
    except OSError:
        pass
    return dict(
        variant=vid, name=v["name"], title=v["title"], lag_s=args.lag, health_checks=args.health_checks,
        rounds=args.rounds, replicas=args.replicas, connections=args.connections,
        requests=w["requests"], attempts=attempts, ok=ok, duration_s=round(w["duration_us"] / 1e6, 2),
        rate=round(w["requests"] / (w["duration_us"] / 1e6), 1),
        success_ratio=success, lost=attempts - ok,
        statuses=statuses, transport_errors=dict(connect=e["connect"], read=e["read"], write=e["write"], timeout=e["timeout"]),
        latency_ms={k: round(w["latency_us"][k] / 1000, 1) for k in ("p50", "p90", "p99", "max")},
        failures_by_second={int(k): c for k, c in w.get("failures_by_second", {}).items()},
        terminations=[{k: v2 for k, v2 in r.result.items()} for r in terminated if r.result],
        events=events, haproxy_error_lines=haproxy_errors[:200], haproxy_error_count=len(haproxy_errors),
        label=label, haproxy_error_lines_all=haproxy_errors,
    )


def _termination_for(t, server, terms):
    """The termination a lost request belongs to: the replica that answered, if it was terminating; otherwise the
    latest termination begun before the request (HAProxy answered <NOSRV>, or a replica that was not terminating)."""
    for x in terms:
        if x["replica"] == server and t >= x["term_start"]:
            return x, True
    earlier = [x for x in terms if x["term_start"] <= t]
    return (max(earlier, key=lambda x: x["term_start"]) if earlier else None), server in (None, "<NOSRV>")


def lost_entry(t, server, outcome, terms, load_start):
    x, terminating = _termination_for(t, server, terms)
    return dict(at_s=round(t - load_start, 3), replica=server if not terminating else (x["replica"] if x else None),
                terminating=terminating, termination=x["replica"] if x else None,
                after_termination_s=round(t - x["term_start"], 2) if x else None, outcome=outcome, served_by=server)


def summarize_paced(vid, v, args, records, terminated, events, load_start, load_s, haproxy_log, label):
    recs = sorted(records, key=lambda r: r["t"])
    statuses, te = {}, dict(connect=0, read=0, write=0, timeout=0)
    for r in recs:
        if r["status"] is not None:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        else:
            te[r["error"]] += 1
    ok = sum(c for s, c in statuses.items() if 200 <= s < 300)
    attempts = len(recs)
    terms = [dict(r.result) for r in terminated if r.result]
    lost = []
    for r in recs:
        if r["status"] is not None and 200 <= r["status"] < 300:
            continue
        outcome = str(r["status"]) if r["status"] is not None else r["error"]
        if r["server"] == "<NOSRV>":
            outcome += " <NOSRV>"
        lost.append(lost_entry(r["t"], r["server"], outcome, terms, load_start))
    ms = sorted(r["ms"] for r in recs if r["status"] is not None and 200 <= r["status"] < 300)

    def pct(q):
        return ms[min(len(ms) - 1, int(q / 100 * len(ms)))] if ms else 0.0

    haproxy_errors = []
    try:
        with open(haproxy_log) as f:
            haproxy_errors = [line.rstrip() for line in f if " fe " in line and "<BADREQ>" not in line]
    except OSError:
        pass
    return dict(
        variant=vid, name=v["name"], title=v["title"], lag_s=args.lag, health_checks=args.health_checks,
        rounds=args.rounds, replicas=args.replicas, callers=args.callers, interval_s=args.interval,
        requests=attempts - sum(te.values()), attempts=attempts, ok=ok, duration_s=round(load_s, 2),
        rate=round(attempts / load_s, 1) if load_s else 0.0,
        success_ratio=ok / attempts if attempts else 0.0, lost=attempts - ok,
        statuses=statuses, transport_errors=te,
        latency_ms=dict(p50=pct(50), p90=pct(90), p99=pct(99), max=ms[-1] if ms else 0.0),
        lost_detail=lost,
        terminations=terms, events=events,
        request_log=[dict(at_s=round(r["t"] - load_start, 3), status=r["status"], error=r["error"], served_by=r["server"], ms=r["ms"])
                     for r in recs] if len(recs) <= 500 else None,
        haproxy_error_lines=haproxy_errors[:200], haproxy_error_count=len(haproxy_errors), label=label,
    )


_HAPROXY_LINE = re.compile(r"\[(\d+/\w+/\d+:\d+:\d+:\d+)\.(\d+)\] fe \S+?/(\S+) -?\d+/-?\d+/-?\d+/-?\d+/(-?\d+) (-?\d+) \S+ \S+ \S+ (\S{4}) ")


def attribute_haproxy_errors(r, load_start):
    """wrk does not say where a request failed; HAProxy's error log does (time the request arrived, server, status,
    termination state). Client-side aborts (wrk stopping) are not losses and are left out."""
    out = []
    for line in r["haproxy_error_lines_all"]:
        m = _HAPROXY_LINE.search(line)
        if not m:
            continue
        if m.group(6)[0] == "C":
            continue
        # The log's date is when the request arrived; it failed Ta ms later (a connection attempt to a busy replica can
        # wait in its accept queue and be refused only when the replica closes its listener).
        t = (time.mktime(time.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S")) + int(m.group(2)) / 1000
             + max(0, int(m.group(4))) / 1000)
        out.append(lost_entry(t, m.group(3), f"{m.group(5)} {m.group(6)}", r["terminations"], load_start))
    return out


def fmt_ratio(x):
    return f"{x * 100:.3f} %"


def markdown(results, args):
    lines = []
    rollout = [r for r in results if r.get("model", "rollout") == "rollout"]
    if rollout:
        lines.append(f"Rounds: {args.rounds} x {args.replicas} replicas; grace period {args.grace:g} s; "
                     f"wrk {args.threads} threads / {args.connections} keep-alive connections, GET / and GET /work?ms=50 alternating. "
                     f"Success = 2xx / (responses + transport errors).")
        lines.append("")
        lines.append("| Checks | L (s) | Variant | Requests | Rate (req/s) | Success | Status codes | Transport errors (connect/read/write/timeout) | p50 ms | p90 ms | p99 ms | max ms | Termination → exit, s (exit code) |")
        lines.append("|---|---:|---|---:|---:|---:|---|---|---:|---:|---:|---:|---|")
        for r in rollout:
            codes = ", ".join(f"{s}: {c}" for s, c in sorted(r["statuses"].items()))
            te = r["transport_errors"]
            lines.append(f"| {r['health_checks']} | {r['lag_s']:g} | {r['title']} | {r['requests']} | {r['rate']:.0f} | {fmt_ratio(r['success_ratio'])} | {codes} | "
                         f"{te['connect']}/{te['read']}/{te['write']}/{te['timeout']} | {r['latency_ms']['p50']} | {r['latency_ms']['p90']} | "
                         f"{r['latency_ms']['p99']} | {r['latency_ms']['max']} | {fmt_terms(r)} |")
    for model in MODELS:
        rows = [r for r in results if r.get("model") == model and model != "rollout"]
        if not rows:
            continue
        if lines:
            lines.append("")
        desc = next((r["description"] for r in rows if r.get("description")), MODELS[model])
        lines.append(f"Model **{model}**: {desc}. Grace period {args.grace:g} s. Success = 2xx / requests sent "
                     f"(responses + transport errors). Lost: replica whose termination the request fell in, time after "
                     f"that termination began, outcome.")
        lines.append("")
        lines.append("| Model | Variant | Requests | Rate (req/s) | Success | Status codes | Transport errors (connect/read/write/timeout) | p99 ms | max ms | Termination → exit, s (exit code) | Endpoint removed, s | Lost requests |")
        lines.append("|---|---|---:|---:|---:|---|---|---:|---:|---|---|---|")
        for r in rows:
            if r.get("skipped"):
                lines.append(f"| {model} | {r['title']} | | | not run | | | | | | | {r['skipped']} |")
                continue
            codes = ", ".join(f"{s}: {c}" for s, c in sorted(r["statuses"].items()))
            te = r["transport_errors"]
            removed = ", ".join(f"{t['endpoint_removed_after_s']:.1f}" if "endpoint_removed_after_s" in t else "?" for t in r["terminations"])
            lines.append(f"| {model} | {r['title']} | {r['attempts']} | {r['rate']:.1f} | {r['ok']}/{r['attempts']} ({fmt_ratio(r['success_ratio'])}) | {codes} | "
                         f"{te['connect']}/{te['read']}/{te['write']}/{te['timeout']} | {r['latency_ms']['p99']} | {r['latency_ms']['max']} | "
                         f"{fmt_terms(r)} | {removed} | {fmt_lost(r)} |")
    return "\n".join(lines)


def fmt_terms(r):
    return ", ".join(f"{t.get('exit_after_s', float('nan')):.1f} ({t.get('exit_code', '?')}{', SIGKILL' if t.get('killed') else ''})"
                     for t in r["terminations"])


def fmt_lost(r):
    """Every lost request when there are few; otherwise per replica: count, time range and outcomes. Times are after
    the start of that replica's termination; a replica that was not terminating is marked, with the time after the
    latest termination."""
    detail = r.get("lost_detail") or []
    if r["lost"] == 0 and not detail:
        return "none"
    if detail and len(detail) <= 12:
        parts = []
        for d in detail:
            where = (f"{d['replica'] or '?'}" if d["terminating"] else
                     f"{d['replica']} (not terminating; {d['termination']}")
            when = f" {d['after_termination_s']:+.1f} s" if d["after_termination_s"] is not None else ""
            parts.append(f"{where}{when}{')' if not d['terminating'] else ''}: {d['outcome']}")
        text = "; ".join(parts)
    else:
        groups = {}
        for d in detail:
            g = groups.setdefault((d["replica"], d["terminating"], None if d["terminating"] else d["termination"]),
                                  dict(count=0, first=None, last=None, outcomes={}))
            g["count"] += 1
            a = d["after_termination_s"]
            if a is not None:
                g["first"] = a if g["first"] is None else min(g["first"], a)
                g["last"] = a if g["last"] is None else max(g["last"], a)
            g["outcomes"][d["outcome"]] = g["outcomes"].get(d["outcome"], 0) + 1
        parts = []
        for (rep, terminating, ref), g in groups.items():
            span = f" at {g['first']:+.1f}…{g['last']:+.1f} s" if g["first"] is not None else ""
            if not terminating:
                span += f" after {ref}'s termination began" if ref else ""
            outs = ", ".join(f"{k}: {v}" for k, v in g["outcomes"].items())
            parts.append(f"{rep or '?'}{'' if terminating else ' (not terminating)'}: {g['count']}{span} ({outs})")
        text = "; ".join(parts)
    if len(detail) != r["lost"]:
        text += f" [{r['lost']} lost by the client's count, {len(detail)} in HAProxy's error log]"
    return text


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
        except Exception as e:
            return repr(e)
    return dict(nproc=sh("nproc"), free=sh("free -h"), uname=sh("uname -a"),
                dotnet=sh("dotnet --info | head -n 12"), haproxy=sh("haproxy -v | head -n 1"),
                wrk=sh("wrk -v 2>&1 | head -n 1"), python=platform.python_version(),
                load_average_at_start=[round(x, 2) for x in LOAD_AT_START],
                load_average_at_end=[round(x, 2) for x in os.getloadavg()])


def write(results, args, models):
    """Writes rollout-<time>.json and .md to --out and prints the tables."""
    md = markdown(results, args)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    settings = {k: getattr(args, k) for k in ("rounds", "replicas", "lags", "grace", "prestop_sleep", "health_checks", "threads",
                                              "connections", "app_arg", "warm_paths")}
    settings["models"] = models
    settings["model_settings"] = {k: v for k, v in vars(args).items()
                                  if k.split("_")[0] in ("sparse", "busy", "load1000", "fallback", "checked") or k == "readiness_delay"}
    report = dict(started=time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0)), argv=sys.argv[1:], machine=machine(),
                  settings=settings, results=results)
    with open(os.path.join(args.out, f"rollout-{stamp}.json"), "w") as f:
        json.dump(report, f, indent=2)
    with open(os.path.join(args.out, f"rollout-{stamp}.md"), "w") as f:
        f.write(md + "\n")
    print()
    print(md)
    print()
    print(f"JSON: {os.path.join(args.out, f'rollout-{stamp}.json')}")
    print(f"Load average (1, 5, 15 min): {report['machine']['load_average_at_start']} at the start, "
          f"{report['machine']['load_average_at_end']} at the end")


def verdict(results, args):
    """Prints NOT RUN, FAIL, WARNING and GOAL NOT MET lines on stderr; returns 1 if a library variant lost a request it
    must not lose, else 0."""
    status = 0
    for r in results:
        model = r.get("model", "rollout")
        if r.get("skipped"):
            print(f"NOT RUN: {model} variant {r['variant']} ({r['name']}): {r['skipped']}", file=sys.stderr)
            continue
        where = f"L = {r['lag_s']:g} s" if r["lag_s"] is not None else "no lag"
        if VARIANTS[r["variant"]]["library"] and r["lost"] > 0 and not r.get("expect_loss"):
            prefix = "FAIL: " if model == "rollout" else f"FAIL: {model} "
            print(f"{prefix}variant {r['variant']} ({r['name']}, {where}) lost {r['lost']} request(s); "
                  f"see {r['label']}-*.log in {args.out}", file=sys.stderr)
            status = 1
        if model in ("rollout", "busy", "load1000") and r["rate"] < 300:
            prefix = "WARNING: " if model == "rollout" else f"WARNING: {model} "
            print(f"{prefix}variant {r['variant']} {where.replace(' s', '')} ran at {r['rate']:.0f} req/s (< 300)", file=sys.stderr)
        if model in CHECKED_GOALS and VARIANTS[r["variant"]]["library"]:
            goal = CHECKED_GOALS[model]
            slow = [t.get("exit_after_s", 0) for t in r["terminations"] if t.get("exit_after_s", 0) > goal]
            if slow:
                print(f"GOAL NOT MET: {model} variant {r['variant']}: {len(slow)} of {len(r['terminations'])} replicas took longer "
                      f"than {goal:g} s ({', '.join(f'{x:.1f}' for x in slow)} s)", file=sys.stderr)
        if model == "busy" and VARIANTS[r["variant"]]["library"]:
            slow = [t["exit_after_s"] for t in r["terminations"] if t.get("exit_after_s", 0) > r["lag_s"] + args.busy_goal_margin]
            if slow:
                print(f"GOAL NOT MET: busy variant {r['variant']}: {len(slow)} of {len(r['terminations'])} replicas took longer "
                      f"than L + {args.busy_goal_margin:g} s = {r['lag_s'] + args.busy_goal_margin:g} s "
                      f"({', '.join(f'{x:.1f}' for x in slow)} s)", file=sys.stderr)
    return status

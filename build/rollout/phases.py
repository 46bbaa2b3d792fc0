#!/usr/bin/env python3
"""Where the time goes between a library replica's termination and its exit, from the replicas' own logs.

Reads a run's JSON (rollout-*.json or longlived-*.json) and, per terminated library replica, its console log next to it: the
shutdown report (event 109: the drain's start as a UTC time and the timeline), the traffic wait's end (event 102, the moment the
library decided), each checker's let-go moment (event 110) and the sequence's end (event 106). The harness's own record gives
the termination's start, when SIGTERM was sent and when the process exited. Every time is in seconds from the termination's
start (the moment Kubernetes would set the deletion timestamp), so the columns add up to the row's "Termination -> exit".

    python3 build/rollout/phases.py artifacts/rollout/rollout-<time>.json [--models checked-sparse,checked-slow]

Columns: SIGTERM (sent by the harness; after the preStop call for variant 4), drain (the library's drain began: SIGTERM or the
preStop call handled), checker (when the last checker let go), decided (the traffic wait ended, event 102: the library's
decision), logged (the wait's end in the timeline), connections closed (WebSockets closed with 1001 over the close window; empty
when there were none), server (stopped accepting connections), stopped (server drain done),
complete (event 106), exit (the process was gone), and after the decision: exit - decided, the part that is the host's stop
and the runtime's exit rather than the library's evidence.
"""
import argparse
import datetime
import json
import os
import re
import sys

REPORT = re.compile(r"Shutdown report: drain started by (\w+) at (\S+?); traffic wait (\w+) after ([\d.]+) s.*Timeline: (.*)$")
LET_GO = re.compile(r"Health checker .*?; let go at \+([\d.]+) s")
NEVER = re.compile(r"Health checker .*?; (had not let go|never let go|not let go)")
COMPLETE = re.compile(r"Shutdown sequence complete ([\d.]+) s after the drain began")
STEP = re.compile(r"\+([\d.]+) s ([^:]+): (.*)")


def parse_utc(text):
    # 2026-12-07T12:39:19.4747709+00:00: Python takes at most 6 fractional digits.
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d\d:\d\d)", text)
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    return datetime.datetime.fromisoformat(f"{m.group(1)}.{frac}{m.group(3)}").timestamp()


def read_log(path):
    facts = dict(let_go=[], held=0)
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        m = REPORT.search(line)
        if m:
            facts["trigger"], facts["drain_utc"] = m.group(1), parse_utc(m.group(2))
            facts["outcome"], facts["decided"] = m.group(3), float(m.group(4))
            for step in m.group(5).split("; +"):
                s = STEP.match(step if step.startswith("+") else "+" + step)
                if not s:
                    continue
                at, source, text = float(s.group(1)), s.group(2).strip(), s.group(3)
                if source == "traffic wait" and text.startswith("ended"):
                    facts["logged"] = at
                elif source == "connections" and " closed" in text:
                    facts["closed"] = at
                elif source == "server" and text.startswith("stopped accepting"):
                    facts["server"] = at
                elif source == "server" and text.startswith("stopped after"):
                    facts["stopped"] = at
            continue
        m = LET_GO.search(line)
        if m:
            facts["let_go"].append(float(m.group(1)))
            continue
        if NEVER.search(line):
            facts["held"] += 1
            continue
        m = COMPLETE.search(line)
        if m:
            facts["complete"] = float(m.group(1))
    return facts if "drain_utc" in facts else None


def fmt(x):
    return "" if x is None else f"{x:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("--models", default="", help="comma-separated models to show (rollout JSON); all by default")
    args = ap.parse_args()
    outdir = os.path.dirname(os.path.abspath(args.json))
    with open(args.json) as f:
        run = json.load(f)
    models = [m for m in args.models.split(",") if m]
    print("| Model | Variant | Replica | SIGTERM | drain | checker let go | decided (102) | logged | connections closed | server | stopped | complete (106) "
          "| exit | exit − decided |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in run["results"]:
        if r.get("skipped") or (models and r.get("model", r.get("mode")) not in models):
            continue
        if not r["name"].startswith("library"):
            continue
        for t in r.get("terminations") or []:
            facts = read_log(os.path.join(outdir, f"{r['label']}-{t['replica']}.log"))
            if facts is None:
                print(f"| {r.get('model', r.get('mode'))} | {r['variant']} | {t['replica']} | no report in the log ||||||||||")
                continue
            t0 = t["term_start"]
            drain = facts["drain_utc"] - t0

            def since_t0(x):
                return None if x is None else drain + x

            letgo = max(facts["let_go"]) if facts["let_go"] else None
            decided = since_t0(facts["decided"])
            exit_s = t.get("exit_after_s")
            print(f"| {r.get('model', r.get('mode'))} | {r['variant']} | {t['replica']} | {fmt(t.get('sigterm_after_s'))} | {fmt(drain)} | "
                  f"{fmt(since_t0(letgo)) if letgo is not None else ('held' if facts['held'] else '–')} | {fmt(decided)} | "
                  f"{fmt(since_t0(facts.get('logged')))} | {fmt(since_t0(facts.get('closed')))} | {fmt(since_t0(facts.get('server')))} | {fmt(since_t0(facts.get('stopped')))} | "
                  f"{fmt(since_t0(facts.get('complete')))} | {fmt(exit_s)} | {fmt(exit_s - decided if exit_s is not None else None)} |")


if __name__ == "__main__":
    sys.exit(main())

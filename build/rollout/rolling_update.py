"""One variant's rolling update (maxSurge 1, maxUnavailable 0) under load, and a model's variants one after the other
or side by side."""
import subprocess
import threading
import time

from balancer import HAProxy, v_check_path
from control_plane import ControlPlane
from harness import in_thread, log, set_log_prefix
from loadgen import PacedLoad, read_wrk, start_wrk, stop_wrk
from models import VARIANTS, variant_title
from replicas import NotSupported, Replica, remove_endpoint_once, stop_all, terminate
from report import attribute_haproxy_errors, summarize, summarize_paced


def run_variant(vid, args, ports, outdir):
    v = VARIANTS[vid]
    model = getattr(args, "model", "rollout")
    title = variant_title(v, args)
    if model == "rollout":
        label = f"hc{args.health_checks}-L{args.lag:g}-v{vid}-{v['name']}"
        log(f"== {v['title']} (L = {args.lag:g} s, health checks {args.health_checks}) ==")
    else:
        label = f"{model}-v{vid}-{v['name']}"
        log(f"== {model}: {title} ==")
    haproxy = HAProxy(outdir, ports.take(), v_check_path(v), args.health_checks == "on", label,
                      maxconn=getattr(args, "maxconn", 4096), served_by=model != "rollout",
                      connect_timeout=getattr(args, "connect_timeout", 2),
                      check_params=getattr(args, "check_params", "inter 1s fall 1 rise 1"))
    haproxy.start()
    mine, loads = [haproxy.proc], []
    try:
        return _run_variant(vid, v, args, ports, outdir, label, haproxy, mine, loads)
    except NotSupported as e:
        log(f"  not run: {e}")
        return dict(model=model, variant=vid, name=v["name"], title=title, label=label, skipped=str(e))
    finally:
        # Normally everything has stopped by now; after an error, this variant's processes go (others run on).
        for load in loads:
            load.stop()
        for p in mine:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass


def _run_variant(vid, v, args, ports, outdir, label, haproxy, mine, loads):
    serial = [0]
    control_plane = ControlPlane(label, args.grace) if v.get("kubernetes") else None

    def new_replica():
        serial[0] += 1
        r = Replica(f"r{serial[0]}", ports.take(), v, args, outdir, label, control_plane)
        mine.append(r.proc)
        return r

    def add(r):
        haproxy.add(r.name, r.port)
        if not haproxy.wait_up(r.name):
            raise RuntimeError(f"haproxy never saw {r.name} up")
        if control_plane is not None:
            # Its readiness answered 200 (the harness's probe, as kubelet's): the EndpointSlice controller marks the
            # endpoint ready, which is when kube-proxy starts routing to it (here: HAProxy has it up).
            control_plane.ready(r)

    live = []
    for _ in range(args.replicas):
        r = new_replica()
        live.append(r)
    for r in live:
        r.wait_ready(args.ready_timeout)
        add(r)
    log(f"  {len(live)} replicas ready: " + ", ".join(f"{r.name}:{r.port}" for r in live))

    paced = getattr(args, "load", "wrk") == "paced"
    if paced:
        load = PacedLoad(haproxy.port, args.callers, args.interval, args.path)
        loads.append(load)
        load.start()
    else:
        wrk, wrk_out = start_wrk(args, haproxy.port, outdir, label)
        mine.append(wrk)
    load_start = time.time()
    time.sleep(args.settle)

    terminated, threads, events = [], [], []
    fallback = getattr(args, "removal", "lag") == "fallback"
    for rnd in range(1, args.rounds + 1):
        log(f"  round {rnd}")
        for i in range(len(live)):
            old = live[i]
            if fallback:
                # Eviction, drain or delete of a single replica: termination begins, and the ReplicaSet starts the
                # replacement at once. kube-proxy routes to the terminating endpoint while its readiness passes (HAProxy's
                # check) and no ready endpoint exists; once the replacement is ready it stops using the fallback.
                events.append(dict(t=round(time.time() - load_start, 3), event=f"{old.name} termination begins"))
                log(f"    terminating {old.name} (:{old.port}); replacement starting")
                th = threading.Thread(target=in_thread(terminate), args=(old, haproxy, args, rnd), daemon=True)
                th.start()
                threads.append(th)
                terminated.append(old)
                new = new_replica()
                new.wait_ready(args.ready_timeout)
                add(new)
                while old.result is None:
                    time.sleep(0.01)
                remove_endpoint_once(old, haproxy, "replacement ready")
                events.append(dict(t=round(time.time() - load_start, 3),
                                   event=f"{new.name} added (ready {new.ready_at - new.started:.2f} s after start); fallback to {old.name} ends"))
                log(f"    {new.name} (:{new.port}) ready and added {time.time() - old.result['term_start']:.2f} s after "
                    f"{old.name}'s termination began")
                live[i] = new
                continue
            new = new_replica()
            if getattr(args, "one_at_a_time", False) and terminated:
                # sparse: the new replica joins once the previous old one is out of rotation, so every termination
                # sees the same rotation: the replica, one other, the new one.
                prev = terminated[-1]
                deadline = time.time() + args.lag + args.grace
                while time.time() < deadline and "endpoint_removed_after_s" not in (prev.result or {}):
                    time.sleep(0.05)
            new.wait_ready(args.ready_timeout)
            add(new)
            events.append(dict(t=round(time.time() - load_start, 3), event=f"{new.name} added (ready {new.ready_at - new.started:.2f} s after start)"))
            if getattr(args, "align", False):
                # sparse: the old replica that answers the next request is the one terminated, just after it answered:
                # the phase that is worst for a quiet-period rule, and the same in every run. Its next request comes one
                # rotation (3 x interval) later, before the endpoint is removed at L.
                served = load.wait_served([r.name for r in live[i:]], time.time(), timeout=6 * args.interval * (args.replicas + 1))
                if served:
                    j = next(j for j in range(i, len(live)) if live[j].name == served)
                    live[i], live[j] = live[j], live[i]
                    old = live[i]
                events.append(dict(t=round(time.time() - load_start, 3),
                                   event=f"{old.name} answered a request" if served else f"no request to align on; terminating {old.name}"))
            log(f"    {new.name} (:{new.port}) ready and added; terminating {old.name} (:{old.port})")
            live[i] = new
            events.append(dict(t=round(time.time() - load_start, 3), event=f"{old.name} termination begins"))
            th = threading.Thread(target=in_thread(terminate), args=(old, haproxy, args, rnd), daemon=True)
            th.start()
            threads.append(th)
            terminated.append(old)
        # Like maxSurge 1 / maxUnavailable 0 the next replacement starts once the new replica is ready; a round ends
        # when its old replicas have exited, so rounds do not pile up (one at a time paces itself).
        if getattr(args, "one_at_a_time", False) and rnd < args.rounds:
            continue
        for th in threads:
            th.join(timeout=args.grace + 10)
        threads = []
    time.sleep(args.settle)
    if paced:
        load.stop()
    else:
        stop_wrk(wrk)
    load_s = time.time() - load_start

    stop_all(live, haproxy, replica_timeout=20)

    if paced:
        result = summarize_paced(vid, v, args, load.records, terminated, events, load_start, load_s, haproxy.log, label)
    else:
        w = read_wrk(wrk_out)
        result = summarize(vid, v, args, w, terminated, events, load_s, haproxy.log, label)
        if getattr(args, "model", "rollout") != "rollout":
            result["lost_detail"] = attribute_haproxy_errors(result, load_start)
        del result["haproxy_error_lines_all"]
    if getattr(args, "model", "rollout") != "rollout":
        result.update(model=args.model, title=variant_title(v, args), description=args.description,
                      lag_s=None if fallback or getattr(args, "removal", "lag") == "checks" else args.lag,
                      # The fallback model's library rows without ReadinessFailureDelay or the Kubernetes add-on show the
                      # loss those remove.
                      expect_loss=fallback and not (v.get("readiness_delay") or v.get("kubernetes")))
    else:
        result["model"] = "rollout"
    return result


def run_model(model, margs, vids, ports, out, parallel):
    """Runs a model's variants one after the other, or side by side (sparse: the load is light, the run is long)."""
    if not parallel:
        return [run_variant(vid, margs, ports, out) for vid in vids]
    results, errors = [None] * len(vids), []

    def worker(i, vid):
        set_log_prefix(f"[{model} v{vid}] ")
        try:
            results[i] = run_variant(vid, margs, ports, out)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i, vid), daemon=True) for i, vid in enumerate(vids)]
    for th in threads:
        th.start()
    for th in threads:
        while th.is_alive():
            th.join(0.5)  # short joins: a signal still interrupts the main thread
    if errors:
        raise errors[0]
    return results

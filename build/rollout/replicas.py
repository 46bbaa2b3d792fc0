"""Replicas: real processes of the sample, started and made ready like a pod, and terminated the way Kubernetes does
(endpoint removal after the propagation lag L, in parallel with kubelet's preStop -> SIGTERM -> SIGKILL)."""
import os
import signal
import subprocess
import threading
import time

from harness import http_get, log, spawn
from models import READINESS_DELAY_ENV


class NotSupported(Exception):
    """The core rejected an option the variant needs (start-up failed on an unknown configuration key)."""


class Replica:
    def __init__(self, name, port, variant, args, outdir, label, control_plane=None):
        self.name = name
        self.port = port
        self.variant = variant
        self.logfile = os.path.join(outdir, f"{label}-{name}.log")
        argv = ["dotnet", args.dll, "--urls", f"http://127.0.0.1:{port}"]
        if not variant["library"]:
            argv.append("--Sample:UseLibrary=false")
        argv += args.app_arg
        argv += getattr(args, "model_app_args", lambda v: [])(variant)
        env = dict(os.environ, DOTNET_NOLOGO="1", ASPNETCORE_ENVIRONMENT="Production")
        if variant.get("readiness_delay"):
            env[READINESS_DELAY_ENV] = args.readiness_delay
        # Variants with the Kubernetes add-on: the pod exists (not ready) before its container starts.
        self.control_plane = control_plane
        if control_plane is not None:
            env.update(control_plane.env(self))
            control_plane.started(self)
        self.started = time.time()
        self.proc = spawn(argv, self.logfile, env)
        self.ready_at = None
        self.warm_paths = [p for p in args.warm_paths.split(",") if p]
        self.result = None  # termination record

    @property
    def ready_path(self):
        return "/health/ready" if self.variant["library"] else "/"

    def wait_ready(self, timeout):
        deadline = time.time() + timeout
        url = f"http://127.0.0.1:{self.port}{self.ready_path}"
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if self.variant.get("readiness_delay") and self._log_mentions("ReadinessFailureDelay"):
                    raise NotSupported(f"start-up failed on the key {READINESS_DELAY_ENV} (this core does not know "
                                       f"GracefulShutdown:Endpoints:ReadinessFailureDelay); see {self.logfile}")
                raise RuntimeError(f"replica {self.name} exited with {self.proc.returncode}; see {self.logfile}")
            status, _ = http_get(url, 1)
            if status == 200:
                self.ready_at = time.time()
                for path in self.warm_paths:
                    http_get(f"http://127.0.0.1:{self.port}{path}", 10)
                return
            time.sleep(0.1)
        raise RuntimeError(f"replica {self.name} not ready after {timeout} s; see {self.logfile}")

    def _log_mentions(self, text):
        try:
            with open(self.logfile, errors="replace") as f:
                return text in f.read()
        except OSError:
            return False


_removal_lock = threading.Lock()


def remove_endpoint_once(replica, haproxy, why):
    """fallback model: takes the terminating replica out of HAProxy the first time a reason arises."""
    with _removal_lock:
        rec = replica.result
        if "endpoint_removed_after_s" in rec:
            return
        haproxy.maint(replica.name)
        rec["endpoint_removed_after_s"] = round(time.time() - rec["term_start"], 3)
        rec["endpoint_removed_because"] = why


def terminate(replica, haproxy, args, rnd):
    """Kubernetes termination: endpoint removal after L, in parallel with preStop -> SIGTERM -> SIGKILL at the grace period."""
    v = replica.variant
    t0 = time.time()
    rec = dict(replica=replica.name, port=replica.port, round=rnd, term_start=t0)
    replica.result = rec
    if replica.control_plane is not None:
        # The API's deletion: deletionTimestamp set, the endpoint turns ready=false, serving=true, terminating=true.
        replica.control_plane.terminating(replica, t0)

    def remove_endpoint():
        time.sleep(args.lag)
        haproxy.maint(replica.name)
        rec["endpoint_removed_after_s"] = round(time.time() - t0, 3)

    # fallback model: no removal after L; kube-proxy keeps routing to the terminating endpoint while it passes readiness
    # and no ready endpoint exists; the run removes it once the replacement is ready, or here once the process is gone.
    def watch_checks():
        # checked-* models: nothing removes the endpoint but HAProxy's own health checks; note when they took it out.
        while replica.proc.poll() is None and "endpoint_removed_after_s" not in rec:
            state = haproxy.state(replica.name)
            if state is not None and state != 2:
                with _removal_lock:
                    rec.setdefault("endpoint_removed_after_s", round(time.time() - t0, 3))
                    rec.setdefault("endpoint_removed_because", "health checks")
                return
            time.sleep(0.05)

    remover = None
    if getattr(args, "removal", "lag") == "lag":
        remover = threading.Thread(target=remove_endpoint, daemon=True)
        remover.start()
    elif getattr(args, "removal", "lag") == "checks":
        threading.Thread(target=watch_checks, daemon=True).start()

    grace = args.grace
    prestop_end = t0
    if v["prestop"] == "sleep":
        # The classic recipe: lifecycle.preStop.sleep (or exec sleep) before SIGTERM.
        slept = min(args.prestop_sleep, grace)
        while time.time() < t0 + slept and replica.proc.poll() is None:
            time.sleep(0.05)
        prestop_end = time.time()
        rec["prestop_s"] = round(prestop_end - t0, 3)
    elif v["prestop"] == "http":
        # kubelet's httpGet hook: awaited, bounded only by the grace period; the status code is not checked.
        status, body = http_get(f"http://127.0.0.1:{replica.port}/lifecycle/prestop", grace)
        prestop_end = time.time()
        rec["prestop_s"] = round(prestop_end - t0, 3)
        rec["prestop_status"] = status
        rec["prestop_body"] = body.strip()[:200]

    sigterm_at = time.time()
    if replica.proc.poll() is None:
        replica.proc.send_signal(signal.SIGTERM)
        rec["sigterm_after_s"] = round(sigterm_at - t0, 3)
    # kubelet: StopContainer with grace - preStop (at least 2 s), then SIGKILL.
    kill_at = max(t0 + grace, prestop_end + 2)
    try:
        replica.proc.wait(timeout=max(0.0, kill_at - time.time()))
        rec["killed"] = False
    except subprocess.TimeoutExpired:
        replica.proc.kill()
        replica.proc.wait()
        rec["killed"] = True
    rec["exit_after_s"] = round(time.time() - t0, 3)
    rec["exit_code"] = replica.proc.returncode
    if replica.control_plane is not None:
        replica.control_plane.gone(replica)
    if remover is not None:
        remover.join()
    else:
        remove_endpoint_once(replica, haproxy, "exited")
    rec["deleted"] = haproxy.delete(replica.name)
    log(f"    {replica.name} (:{replica.port}) exited {rec['exit_code']} {rec['exit_after_s']:.2f} s after termination began")


def stop_all(live, haproxy, replica_timeout):
    """Ends a run: the replicas still up get a local Ctrl+C (the library skips the wait outside Kubernetes), then HAProxy stops."""
    for r in live:
        if r.proc.poll() is None:
            r.proc.send_signal(signal.SIGINT)
    for r in live:
        try:
            r.proc.wait(timeout=replica_timeout)
        except subprocess.TimeoutExpired:
            r.proc.kill()
    haproxy.proc.terminate()
    try:
        haproxy.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        haproxy.proc.kill()

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

Run it through run.sh (installs haproxy/wrk when missing and builds the sample). See docs/rollout-benchmark.md.
"""
import argparse
import copy
import ctypes
import http.client
import json
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_DLL = os.path.join(REPO, "samples", "GracefulShutdown.Sample", "bin", "Release", "net10.0", "GracefulShutdown.Sample.dll")

VARIANTS = {
    1: dict(name="plain", title="1. Plain ASP.NET Core, SIGTERM only", library=False, prestop=None),
    2: dict(name="plain-prestop-sleep", title="2. Plain ASP.NET Core, preStop sleep 15 s", library=False, prestop="sleep"),
    3: dict(name="library-sigterm", title="3. Library, SIGTERM only", library=True, prestop=None),
    4: dict(name="library-prestop-http", title="4. Library, preStop httpGet /lifecycle/prestop", library=True, prestop="http"),
    # Readiness kept passing while draining (GracefulShutdown:TrafficWait:ReadinessFailureDelay, --readiness-delay). A core
    # without that option fails start-up on the unknown key; the harness then reports the row as not run.
    5: dict(name="library-sigterm-ready-kept", title="5. Library, SIGTERM only, ReadinessFailureDelay {delay}", library=True,
            prestop=None, readiness_delay=True),
    6: dict(name="library-prestop-http-ready-kept", title="6. Library, preStop httpGet, ReadinessFailureDelay {delay}", library=True,
            prestop="http", readiness_delay=True),
}
READINESS_DELAY_ENV = "GracefulShutdown__TrafficWait__ReadinessFailureDelay"

# The models besides "rollout" (the original one). Every setting can be changed with the --<model>-* options.
MODELS = {
    "rollout": "rolling update under wrk load, L and health checks as given by --lags and --health-checks",
    "sparse": "one caller, one request every {interval:g} s through the balancer (each of {replicas} replicas sees one every "
              "{per_replica:g} s; {rotation:g} s while a replacement is in rotation too), L = {lag:g} s, no health checks, "
              "{rounds} round(s), one replacement at a time, each termination beginning just after the replica answered "
              "a request; every lost request listed",
    "busy": "wrk -t{threads} -c{connections} (GET / and GET /work?ms=50), L = {lag:g} s, no health checks, {rounds} round(s); "
            "goal: 100 % and every library replica gone within L + {goal_margin:g} s",
    "load1000": "wrk -t{threads} -c{connections} keep-alive connections (GET / and GET /work?ms=50), L = {lag:g} s, "
                "no health checks, HAProxy timeout connect {connect_timeout:g} s, {rounds} round(s)",
    "fallback": "one replica, HAProxy checks readiness (inter 1s fall 1 rise 1); at termination a replacement starts that is "
                "ready after a {delay_ms} ms warm-up; the terminating replica stays in HAProxy until the replacement is ready "
                "or it exits (kube-proxy's terminating-endpoint fallback); {callers} callers x 1 request every {interval:g} s; "
                "{rounds} round(s)",
}
DEFAULT_VARIANTS = {"rollout": "1,2,3,4", "sparse": "1,2,3,4", "busy": "1,2,3,4", "load1000": "1,2,3,4", "fallback": "1,2,3,4,5,6"}

_children = []          # every Popen we started; killed on exit
_children_lock = threading.Lock()
_tls = threading.local()  # log prefix of a variant running in parallel with others
T0 = time.time()


_log_lock = threading.Lock()


def log(msg):
    line = f"[{time.time() - T0:7.2f}s] {getattr(_tls, 'prefix', '')}{msg}\n"
    with _log_lock:  # variants running side by side: one whole line at a time
        sys.stdout.write(line)
        sys.stdout.flush()


class NotSupported(Exception):
    """The core rejected an option the variant needs (start-up failed on an unknown configuration key)."""


# ---------------------------------------------------------------- processes

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent():
    # PR_SET_PDEATHSIG = 1: the child gets SIGKILL if the harness dies, even by SIGKILL.
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def spawn(argv, logfile, env=None):
    """Spawns a child. PDEATHSIG is tied to the spawning thread: spawn from the main thread, or from a thread that
    outlives the child (a variant's own thread, which stops its children before it returns)."""
    f = open(logfile, "ab", buffering=0)
    p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, preexec_fn=_die_with_parent)
    f.close()
    with _children_lock:
        _children.append(p)
    return p


def kill_all():
    with _children_lock:
        procs = list(_children)
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
    for p in procs:
        try:
            p.wait(timeout=5)
        except Exception:
            pass


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Ports:
    def __init__(self, start):
        self.next = start
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            while True:
                p = self.next
                self.next += 1
                if port_free(p):
                    return p


def http_get(url, timeout):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except Exception as e:  # transport error
        return None, repr(e)


# ---------------------------------------------------------------- HAProxy

class HAProxy:
    def __init__(self, workdir, port, check_path, health_checks, label, maxconn=4096, served_by=False, connect_timeout=2):
        self.sock = os.path.join(workdir, f"{label}-haproxy.sock")
        self.cfg = os.path.join(workdir, f"{label}-haproxy.cfg")
        self.log = os.path.join(workdir, f"{label}-haproxy.log")
        self.port = port
        self.health_checks = health_checks
        # inter 1s fall 1 rise 1: a readiness change is seen within about a second.
        self.check_args = "check inter 1s fall 1 rise 1" if health_checks else ""
        # The original model's config is unchanged; the other models set the frontend's limit and name the server that
        # answered (or <NOSRV>) in X-Served-By, so every lost request can be traced to a replica.
        extra_defaults = "" if maxconn == 4096 else f"    maxconn {maxconn}\n"
        extra_frontend = "    http-after-response set-header X-Served-By %s\n" if served_by else ""
        with open(self.cfg, "w") as f:
            f.write(f"""# generated by build/rollout/rollout.py ({label})
global
    stats socket {self.sock} mode 600 level admin
    maxconn {maxconn}
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    # Only errors and non-2xx are logged: the evidence for any lost request.
    option dontlog-normal
    timeout connect {connect_timeout:g}s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s
    # A failure reaches the client exactly as through kube-proxy: no retry, no redispatch.
    retries 0
    no option redispatch
{extra_defaults}
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
{extra_frontend}
backend be
    balance roundrobin
    # Pooled keep-alive connections to the servers, shared between client connections (like a pooled client).
    http-reuse always
    option httpchk GET {check_path}
""")
        self.proc = None

    def start(self):
        self.proc = spawn(["haproxy", "-db", "-f", self.cfg], self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(self.sock):
                try:
                    self.cmd("show info")
                    return
                except OSError:
                    pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited: see {self.log}")
            time.sleep(0.05)
        raise RuntimeError("haproxy did not open its admin socket")

    def cmd(self, line):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(self.sock)
            s.sendall((line + "\n").encode())
            out = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
        return out.decode().strip()

    def add(self, name, port):
        out = self.cmd(f"add server be/{name} 127.0.0.1:{port} {self.check_args}".strip())
        if "New server registered" not in out:
            raise RuntimeError(f"add server failed: {out}")
        self.cmd(f"enable server be/{name}")
        if self.health_checks:
            self.cmd(f"enable health be/{name}")

    def state(self, name):
        for line in self.cmd("show servers state be").splitlines():
            f = line.split()
            if len(f) > 5 and f[3] == name:
                return int(f[5])  # srv_op_state: 2 = running
        return None

    def wait_up(self, name, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.state(name) == 2:
                return True
            time.sleep(0.05)
        return False

    def maint(self, name):
        # Endpoint removal: no new request goes to the server; requests in flight finish.
        return self.cmd(f"set server be/{name} state maint")

    def delete(self, name):
        for _ in range(50):
            out = self.cmd(f"del server be/{name}")
            if "deleted" in out.lower():
                return True
            time.sleep(0.2)
        return False


# ---------------------------------------------------------------- replicas

class Replica:
    def __init__(self, name, port, variant, args, outdir, label):
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
                                       f"GracefulShutdown:TrafficWait:ReadinessFailureDelay); see {self.logfile}")
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


def in_thread(fn):
    """Runs fn on a new daemon thread with the caller's log prefix."""
    prefix = getattr(_tls, "prefix", "")

    def run(*a):
        _tls.prefix = prefix
        fn(*a)
    return run


def terminate(replica, haproxy, args, rnd):
    """Kubernetes termination: endpoint removal after L, in parallel with preStop -> SIGTERM -> SIGKILL at the grace period."""
    v = replica.variant
    t0 = time.time()
    rec = dict(replica=replica.name, port=replica.port, round=rnd, term_start=t0)
    replica.result = rec

    def remove_endpoint():
        time.sleep(args.lag)
        haproxy.maint(replica.name)
        rec["endpoint_removed_after_s"] = round(time.time() - t0, 3)

    # fallback model: no removal after L; kube-proxy keeps routing to the terminating endpoint while it passes readiness
    # and no ready endpoint exists; the run removes it once the replacement is ready, or here once the process is gone.
    remover = None
    if getattr(args, "removal", "lag") == "lag":
        remover = threading.Thread(target=remove_endpoint, daemon=True)
        remover.start()

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
    if remover is not None:
        remover.join()
    else:
        remove_endpoint_once(replica, haproxy, "exited")
    rec["deleted"] = haproxy.delete(replica.name)
    log(f"    {replica.name} (:{replica.port}) exited {rec['exit_code']} {rec['exit_after_s']:.2f} s after termination began")


# ---------------------------------------------------------------- paced callers

class PacedLoad:
    """Callers that each send one GET every `interval` seconds (a new connection per request, so nothing client-side
    outlives a request), recording the time, the outcome and the server HAProxy chose (X-Served-By). Bounded: each
    caller stops when stop() is called, and every request has a 10 s timeout."""

    def __init__(self, port, callers, interval, path):
        self.port, self.callers, self.interval, self.path = port, callers, interval, path
        self.records = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def start(self):
        for i in range(self.callers):
            th = threading.Thread(target=self._run, args=(i * self.interval / self.callers,), daemon=True)
            th.start()
            self.threads.append(th)

    def wait_served(self, servers, since, timeout):
        """Waits until one of `servers` answers a request sent after `since` with a 2xx; returns its name, or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for r in self.records[-8:]:
                    if r["server"] in servers and r["t"] >= since and r["status"] is not None and 200 <= r["status"] < 300:
                        return r["server"]
            time.sleep(0.01)
        return None

    def stop(self):
        self.stopping.set()
        for th in self.threads:
            th.join(timeout=15)

    def _run(self, offset):
        due = time.time() + offset
        while not self.stopping.wait(max(0.0, due - time.time())):
            self._one()
            due = max(due + self.interval, time.time())  # late: no burst to catch up

    def _one(self):
        sent = time.time()
        rec = dict(t=sent, status=None, server=None, error=None)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", self.path)
            resp = conn.getresponse()
            resp.read()
            rec["status"] = resp.status
            rec["server"] = resp.getheader("X-Served-By")
        except ConnectionRefusedError:
            rec["error"] = "connect"
        except (socket.timeout, TimeoutError):
            rec["error"] = "timeout"
        except BrokenPipeError:
            rec["error"] = "write"
        except (OSError, http.client.HTTPException):
            rec["error"] = "read"
        finally:
            conn.close()
        rec["ms"] = round((time.time() - sent) * 1000, 1)
        with self.lock:
            self.records.append(rec)


# ---------------------------------------------------------------- one variant

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
                      connect_timeout=getattr(args, "connect_timeout", 2))
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


def variant_title(v, args):
    return v["title"].format(delay=getattr(args, "readiness_delay", ""))


def _run_variant(vid, v, args, ports, outdir, label, haproxy, mine, loads):
    serial = [0]

    def new_replica():
        serial[0] += 1
        r = Replica(f"r{serial[0]}", ports.take(), v, args, outdir, label)
        mine.append(r.proc)
        return r

    def add(r):
        haproxy.add(r.name, r.port)
        if not haproxy.wait_up(r.name):
            raise RuntimeError(f"haproxy never saw {r.name} up")

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
        wrk_out = os.path.join(outdir, f"{label}-wrk.json")
        wrk_env = dict(os.environ, WRK_OUT=wrk_out)
        wrk = spawn(["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", "3600s", "--timeout", "10s",
                     "-s", os.path.join(HERE, "load.lua"), f"http://127.0.0.1:{haproxy.port}/"],
                    os.path.join(outdir, f"{label}-wrk.txt"), wrk_env)
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
        wrk.send_signal(signal.SIGINT)  # wrk prints its summary and runs done() on SIGINT
        try:
            wrk.wait(timeout=15)
        except subprocess.TimeoutExpired:
            wrk.kill()
    load_s = time.time() - load_start

    for r in live:
        if r.proc.poll() is None:
            r.proc.send_signal(signal.SIGINT)  # local Ctrl+C: the library skips the wait outside Kubernetes
    for r in live:
        try:
            r.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            r.proc.kill()
    haproxy.proc.terminate()
    try:
        haproxy.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        haproxy.proc.kill()

    if paced:
        result = summarize_paced(vid, v, args, load.records, terminated, events, load_start, load_s, haproxy.log, label)
    else:
        with open(wrk_out) as f:
            w = json.load(f)
        result = summarize(vid, v, args, w, terminated, events, load_s, haproxy.log, label)
        if getattr(args, "model", "rollout") != "rollout":
            result["lost_detail"] = attribute_haproxy_errors(result, load_start)
        del result["haproxy_error_lines_all"]
    if getattr(args, "model", "rollout") != "rollout":
        result.update(model=args.model, title=variant_title(v, args), description=args.description,
                      lag_s=None if fallback else args.lag,
                      # The fallback model's library rows without ReadinessFailureDelay show the loss the option removes.
                      expect_loss=fallback and not v.get("readiness_delay"))
    else:
        result["model"] = "rollout"
    return result


def v_check_path(v):
    # The plain app has no readiness endpoint; its "readiness" is answering at all (GET /).
    return "/health/ready" if v["library"] else "/"


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


# ---------------------------------------------------------------- report

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
                wrk=sh("wrk -v 2>&1 | head -n 1"), python=platform.python_version())


def model_args(args, model):
    """The settings of one model: a copy of the command line with the model's own values."""
    m = copy.copy(args)
    m.model, m.load, m.removal, m.maxconn = model, "wrk", "lag", 4096
    if model == "rollout":
        return m
    m.settle = 3
    if model == "sparse":
        m.lag, m.health_checks, m.rounds, m.replicas, m.settle = args.sparse_lag, "off", args.sparse_rounds, 2, args.sparse_settle
        m.load, m.callers, m.interval, m.path = "paced", 1, args.sparse_interval, "/"
        m.align, m.one_at_a_time = True, True
        m.description = MODELS[model].format(interval=m.interval, replicas=m.replicas, per_replica=m.interval * m.replicas,
                                             rotation=m.interval * (m.replicas + 1), lag=m.lag, rounds=m.rounds)
    elif model == "busy":
        m.lag, m.health_checks, m.rounds, m.replicas = args.busy_lag, "off", args.busy_rounds, 2
        m.threads, m.connections = 2, args.busy_connections
        m.description = MODELS[model].format(threads=m.threads, connections=m.connections, lag=m.lag, rounds=m.rounds,
                                             goal_margin=args.busy_goal_margin)
    elif model == "load1000":
        m.lag, m.health_checks, m.rounds, m.replicas = args.load1000_lag, "off", args.load1000_rounds, 2
        m.threads, m.connections = args.load1000_threads, args.load1000_connections
        # Client connections plus as many pooled server connections, with room to spare.
        m.maxconn = max(4096, 4 * m.connections + 256)
        # kube-proxy puts no connect timeout of its own in the path: a SYN dropped by a full accept queue is retried by
        # the client's kernel (1 s, 3 s, ...). HAProxy's 2 s would turn that queueing on a busy (not terminating)
        # replica into a failed request, so this model waits as long as wrk does.
        m.connect_timeout = args.load1000_connect_timeout
        m.description = MODELS[model].format(threads=m.threads, connections=m.connections, lag=m.lag, rounds=m.rounds,
                                             connect_timeout=m.connect_timeout)
    elif model == "fallback":
        m.lag, m.health_checks, m.rounds, m.replicas, m.removal = 0.0, "on", args.fallback_rounds, 1, "fallback"
        m.load, m.callers, m.interval, m.path = "paced", args.fallback_callers, args.fallback_interval, "/"
        delay = args.fallback_warmup_ms
        # Ready only after the delay: the library's start-up gate holds readiness at 503 (Sample:WarmupMs); the plain app
        # has no readiness, so it binds its port only after the delay (Sample:StartupWorkMs).
        m.model_app_args = lambda v: [f"--Sample:WarmupMs={delay}"] if v["library"] else [f"--Sample:StartupWorkMs={delay}"]
        m.description = MODELS[model].format(delay_ms=delay, callers=m.callers, interval=m.interval, rounds=m.rounds)
    return m


def run_model(model, margs, vids, ports, out, parallel):
    """Runs a model's variants one after the other, or side by side (sparse: the load is light, the run is long)."""
    if not parallel:
        return [run_variant(vid, margs, ports, out) for vid in vids]
    results, errors = [None] * len(vids), []

    def worker(i, vid):
        _tls.prefix = f"[{model} v{vid}] "
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
                    help="comma-separated: rollout, sparse, busy, load1000, fallback (default: all; with --short rollout,sparse)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--lags", default="1,5", help="propagation lags L in seconds, comma-separated")
    ap.add_argument("--variants", default=None,
                    help="comma-separated variant numbers for every model (default: 1,2,3,4; fallback 1-6). 5 and 6 pass "
                         "GracefulShutdown__TrafficWait__ReadinessFailureDelay (--readiness-delay)")
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
                    help="GracefulShutdown:TrafficWait:ReadinessFailureDelay for variants 5 and 6 (environment variable)")
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
            if model != "rollout":
                margs = model_args(args, model)
                log(f"=== model {model}: {margs.description}")
                for r in run_model(model, margs, vids, ports, args.out, parallel=model == "sparse" and not args.sparse_sequential):
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
        md = markdown(results, args)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        settings = {k: getattr(args, k) for k in ("rounds", "replicas", "lags", "grace", "prestop_sleep", "health_checks", "threads",
                                                  "connections", "app_arg", "warm_paths")}
        settings["models"] = models
        settings["model_settings"] = {k: v for k, v in vars(args).items()
                                      if k.split("_")[0] in ("sparse", "busy", "load1000", "fallback") or k == "readiness_delay"}
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
                status = status or 1
            if model in ("rollout", "busy", "load1000") and r["rate"] < 300:
                prefix = "WARNING: " if model == "rollout" else f"WARNING: {model} "
                print(f"{prefix}variant {r['variant']} {where.replace(' s', '')} ran at {r['rate']:.0f} req/s (< 300)", file=sys.stderr)
            if model == "busy" and VARIANTS[r["variant"]]["library"]:
                slow = [t["exit_after_s"] for t in r["terminations"] if t.get("exit_after_s", 0) > r["lag_s"] + args.busy_goal_margin]
                if slow:
                    print(f"GOAL NOT MET: busy variant {r['variant']}: {len(slow)} of {len(r['terminations'])} replicas took longer "
                          f"than L + {args.busy_goal_margin:g} s = {r['lag_s'] + args.busy_goal_margin:g} s "
                          f"({', '.join(f'{x:.1f}' for x in slow)} s)", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()

"""Plumbing shared by the rollout harnesses (rollout.py, longlived.py): the log, child processes that die with the
harness, free ports, one HTTP GET, threads that keep the caller's log prefix."""
import ctypes
import os
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

_children = []          # every Popen we started; killed on exit
_children_lock = threading.Lock()
_tls = threading.local()  # log prefix of a variant running in parallel with others
T0 = time.time()
LOAD_AT_START = os.getloadavg()  # the machine's load when the run began (1, 5, 15 min), in the JSON beside the load at its end
_log_lock = threading.Lock()


def log(msg):
    line = f"[{time.time() - T0:7.2f}s] {getattr(_tls, 'prefix', '')}{msg}\n"
    with _log_lock:  # variants running side by side: one whole line at a time
        sys.stdout.write(line)
        sys.stdout.flush()


def set_log_prefix(prefix):
    """Prefixes this thread's log lines (a variant running side by side with others)."""
    _tls.prefix = prefix


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


# The harness plays the kubelet (readiness polling, the preStop hook): it says so, as kubelet does, so that the library does not
# count it as a load balancer's health checker.
KUBELET_USER_AGENT = "kube-probe/1.31"


def http_get(url, timeout):
    try:
        request = urllib.request.Request(url, headers={"User-Agent": KUBELET_USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except Exception as e:  # transport error
        return None, repr(e)


def in_thread(fn):
    """Runs fn on a new daemon thread with the caller's log prefix."""
    prefix = getattr(_tls, "prefix", "")

    def run(*a):
        _tls.prefix = prefix
        fn(*a)
    return run

"""Load generation: wrk with keep-alive connections (build/rollout/load.lua records every status code), or paced
callers that record every request and the server that answered it."""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

from harness import HERE, spawn


def start_wrk(args, port, outdir, label):
    """wrk on the frontend for the whole run; load.lua writes its JSON summary to <label>-wrk.json when wrk stops."""
    wrk_out = os.path.join(outdir, f"{label}-wrk.json")
    wrk_env = dict(os.environ, WRK_OUT=wrk_out)
    wrk = spawn(["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", "3600s", "--timeout", "10s",
                 "-s", os.path.join(HERE, "load.lua"), f"http://127.0.0.1:{port}/"],
                os.path.join(outdir, f"{label}-wrk.txt"), wrk_env)
    return wrk, wrk_out


def stop_wrk(wrk):
    wrk.send_signal(signal.SIGINT)  # wrk prints its summary and runs done() on SIGINT
    try:
        wrk.wait(timeout=15)
    except subprocess.TimeoutExpired:
        wrk.kill()


def read_wrk(wrk_out):
    with open(wrk_out) as f:
        return json.load(f)


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

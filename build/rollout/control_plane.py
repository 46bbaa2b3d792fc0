"""The Kubernetes control plane for the variants with the Kubernetes add-on (7, 8): the API stand-in
(build/k8s-standin-server, one process per run) holds a Pod per replica and one EndpointSlice per variant, and this
module writes them as the control plane would, from what the harness does and sees:

  replica started            Pod (Ready False) and its endpoint: ready false, serving false, terminating false
  replica ready (and added)  Pod Ready True; endpoint ready true, serving true
  termination begins         Pod deletionTimestamp = now + grace, deletionGracePeriodSeconds; endpoint ready false,
                             serving true (the pod was ready), terminating true (the EndpointSlice controller's rule)
  replica exited             Pod and endpoint deleted

Each variant has its own namespace, so variants can share the run's stand-in. Not modelled: serving turning false when a
terminating pod's readiness fails (the harness does not poll the old replica's readiness; the add-on does not read it)."""
import json
import os
import re
import subprocess
import threading
import time

from harness import REPO, _children, _children_lock, _die_with_parent, log

PROJECT = os.path.join(REPO, "build", "k8s-standin-server", "K8sStandInServer.csproj")
DLL = os.path.join(REPO, "build", "k8s-standin-server", "bin", "Release", "net10.0", "K8sStandInServer.dll")
SERVICE = "web"

_server = None
_server_lock = threading.Lock()


class StandInServer:
    """The stand-in process: one JSON object (or 'delete kind ns name') a line on stdin, 'ok <rv>' or 'error ...' back."""

    def __init__(self, outdir):
        if not os.path.exists(DLL):
            raise RuntimeError(f"{DLL} is missing: dotnet build {PROJECT} -c Release (run.sh does, except with --short)")
        self.kubeconfig = os.path.join(outdir, "standin-kubeconfig")
        self.logfile = os.path.join(outdir, "standin-server.log")
        self.proc = subprocess.Popen(["dotnet", DLL, self.kubeconfig], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(self.logfile, "ab"), text=True, bufsize=1, preexec_fn=_die_with_parent)
        with _children_lock:
            _children.append(self.proc)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("ready "):
            raise RuntimeError(f"the API stand-in did not start ({line!r}); see {self.logfile}")
        self.address = line.split(" ", 1)[1]
        self.lock = threading.Lock()
        log(f"Kubernetes API stand-in at {self.address} (kubeconfig {self.kubeconfig})")

    def send(self, line):
        with self.lock:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline().strip()
        if not answer.startswith("ok"):
            raise RuntimeError(f"the API stand-in refused {line[:120]!r}: {answer}")


def ensure_server(outdir):
    """Starts the run's stand-in once. Call it from the main thread: its PDEATHSIG is tied to the spawning thread."""
    global _server
    with _server_lock:
        if _server is None:
            _server = StandInServer(outdir)
        return _server


def _json(obj):
    return json.dumps(obj, separators=(",", ":"))


def _timestamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class ControlPlane:
    """One variant's namespace: its pods and the Service's EndpointSlice."""

    def __init__(self, label, grace):
        if _server is None:
            raise RuntimeError("the API stand-in is not started (ensure_server)")
        self.server = _server
        self.namespace = re.sub(r"[^a-z0-9-]", "-", label.lower())[:63].strip("-")
        self.kubeconfig = self.server.kubeconfig
        self.grace = int(grace)
        self.lock = threading.Lock()
        self.endpoints = {}  # pod name -> (ip, conditions)
        self.serial = 0

    def pod_name(self, replica):
        return f"{SERVICE}-{replica.name}"

    def env(self, replica):
        return dict(POD_NAME=self.pod_name(replica), POD_NAMESPACE=self.namespace, KUBECONFIG=self.kubeconfig)

    def _pod(self, name, ready, deletion=None):
        metadata = dict(name=name, namespace=self.namespace, labels=dict(app=SERVICE))
        if deletion is not None:
            metadata["deletionTimestamp"] = _timestamp(deletion)
            metadata["deletionGracePeriodSeconds"] = self.grace
        return dict(apiVersion="v1", kind="Pod", metadata=metadata,
                    spec=dict(terminationGracePeriodSeconds=self.grace, containers=[dict(name="app", image="sample")]),
                    status=dict(phase="Running", conditions=[dict(type="Ready", status="True" if ready else "False")]))

    def _slice(self):
        return dict(apiVersion="discovery.k8s.io/v1", kind="EndpointSlice", addressType="IPv4",
                    metadata=dict(name=f"{SERVICE}-abcde", namespace=self.namespace,
                                  labels={"kubernetes.io/service-name": SERVICE}),
                    endpoints=[dict(addresses=[ip], conditions=dict(c),
                                    targetRef=dict(kind="Pod", namespace=self.namespace, name=name))
                               for name, (ip, c) in self.endpoints.items()])

    def started(self, replica):
        name = self.pod_name(replica)
        with self.lock:
            self.serial += 1
            self.endpoints[name] = (f"10.0.0.{self.serial}", dict(ready=False, serving=False, terminating=False))
            self.server.send(_json(self._pod(name, ready=False)))
            self.server.send(_json(self._slice()))

    def ready(self, replica):
        name = self.pod_name(replica)
        with self.lock:
            ip, _ = self.endpoints[name]
            self.endpoints[name] = (ip, dict(ready=True, serving=True, terminating=False))
            self.server.send(_json(self._pod(name, ready=True)))
            self.server.send(_json(self._slice()))

    def terminating(self, replica, at):
        name = self.pod_name(replica)
        with self.lock:
            ip, c = self.endpoints[name]
            self.endpoints[name] = (ip, dict(ready=False, serving=c["serving"], terminating=True))
            self.server.send(_json(self._pod(name, ready=c["serving"], deletion=at + self.grace)))
            self.server.send(_json(self._slice()))

    def gone(self, replica):
        name = self.pod_name(replica)
        with self.lock:
            if self.endpoints.pop(name, None) is None:
                return
            self.server.send(_json(self._slice()))
            self.server.send(f"delete Pod {self.namespace} {name}")

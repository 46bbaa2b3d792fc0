"""What the harness runs: the variants (how the app runs and is terminated) and the models (load, lag, health checks)."""
import copy

VARIANTS = {
    1: dict(name="plain", title="1. Plain ASP.NET Core, SIGTERM only", library=False, prestop=None),
    2: dict(name="plain-prestop-sleep", title="2. Plain ASP.NET Core, preStop sleep 15 s", library=False, prestop="sleep"),
    3: dict(name="library-sigterm", title="3. Library, SIGTERM only", library=True, prestop=None),
    4: dict(name="library-prestop-http", title="4. Library, preStop httpGet /lifecycle/prestop", library=True, prestop="http"),
    # Readiness kept passing while draining (GracefulShutdown:Endpoints:ReadinessFailureDelay, --readiness-delay). A core
    # without that option fails start-up on the unknown key; the harness then reports the row as not run.
    5: dict(name="library-sigterm-ready-kept", title="5. Library, SIGTERM only, ReadinessFailureDelay {delay}", library=True,
            prestop=None, readiness_delay=True),
    6: dict(name="library-prestop-http-ready-kept", title="6. Library, preStop httpGet, ReadinessFailureDelay {delay}", library=True,
            prestop="http", readiness_delay=True),
    # The Kubernetes add-on (GracefulShutdown.Kubernetes, default settings) against the API stand-in, which the harness keeps
    # as the control plane would (control_plane.py): a Pod per replica, the Service's EndpointSlice.
    7: dict(name="library-sigterm-k8s", title="7. Library, SIGTERM only, Kubernetes add-on", library=True, prestop=None,
            kubernetes=True),
    8: dict(name="library-prestop-http-k8s", title="8. Library, preStop httpGet, Kubernetes add-on", library=True,
            prestop="http", kubernetes=True),
}
READINESS_DELAY_ENV = "GracefulShutdown__Endpoints__ReadinessFailureDelay"

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
    "checked-sparse": "the sparse caller ({interval:g} s, {replicas} replicas, one replacement at a time, aligned as in sparse) behind "
                      "HAProxy health checks ({checks}) that are the ONLY way out of the rotation (no removal at L; the endpoint "
                      "is deleted once the process is gone); {rounds} round(s); goal: 100 % and every library replica gone "
                      "within Minimum + 2 s = {goal:g} s",
    "checked-slow": "as checked-sparse with a slow balancer ({checks}) and the library's TrafficWait:Maximum 60 s "
                    "(TerminationGracePeriod and the harness's grace period 75 s); {rounds} round(s); goal: 100 % and every "
                    "library replica gone within {goal:g} s",
}
DEFAULT_VARIANTS = {"rollout": "1,2,3,4", "sparse": "1,2,3,4", "busy": "1,2,3,4", "load1000": "1,2,3,4", "fallback": "1,2,3,4,5,6,7,8",
                    "checked-sparse": "1,2,3,4", "checked-slow": "1,2,3,4"}
# Library replicas of the checked-* models must be gone within this many seconds of their termination's start (GOAL NOT MET).
CHECKED_GOALS = {"checked-sparse": 7.0, "checked-slow": 12.0}


def variant_title(v, args):
    return v["title"].format(delay=getattr(args, "readiness_delay", ""))


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
    elif model in ("checked-sparse", "checked-slow"):
        m.lag, m.health_checks, m.rounds, m.replicas, m.settle = 0.0, "on", args.checked_rounds, 2, args.sparse_settle
        m.load, m.callers, m.interval, m.path = "paced", 1, args.sparse_interval, "/"
        m.align, m.one_at_a_time, m.removal = True, True, "checks"
        m.check_params = "inter 1s fall 2 rise 1" if model == "checked-sparse" else "inter 2s fall 3 rise 1"
        if model == "checked-slow":
            m.grace = 75
            m.model_app_args = lambda v: (["--GracefulShutdown:TrafficWait:Maximum=00:01:00",
                                           "--GracefulShutdown:TerminationGracePeriod=00:01:15"] if v["library"] else [])
        m.description = MODELS[model].format(interval=m.interval, replicas=m.replicas, checks=m.check_params, rounds=m.rounds,
                                             goal=CHECKED_GOALS[model])
    return m

namespace GracefulShutdown.Testing;

/// <summary>How the in-process balancer takes a terminating replica out of rotation.</summary>
public enum RolloutBalancer
{
    /// <summary>
    /// Like kube-proxy, an ingress controller or a cloud load balancer fed by Kubernetes' endpoints: a replica leaves the rotation
    /// <see cref="RolloutOptions.RemovalLag"/> after its termination begins, whatever it answers meanwhile.
    /// </summary>
    RemovalLag,

    /// <summary>
    /// Like a balancer with active health checks: the readiness endpoint (<see cref="RolloutOptions.ReadinessPath"/>) of every
    /// replica in rotation is checked every <see cref="RolloutOptions.HealthCheckInterval"/>, and a replica leaves the rotation after
    /// <see cref="RolloutOptions.HealthCheckThreshold"/> failed checks in a row (or when it stops).
    /// </summary>
    HealthChecked,
}

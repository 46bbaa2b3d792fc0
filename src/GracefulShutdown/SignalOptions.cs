namespace GracefulShutdown;

/// <summary>
/// How the process answers SIGTERM, SIGINT and SIGQUIT, bound from <c>GracefulShutdown:Signals</c>. The first signal begins the
/// drain and stops the host once the traffic wait is over; a second one skips the rest of the wait.
/// </summary>
public class SignalOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether Ctrl+C (SIGINT) outside Kubernetes (no <c>KUBERNETES_SERVICE_HOST</c>) skips the
    /// traffic wait, so that a developer does not sit through it. SIGTERM always runs it.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool SkipWaitOnLocalInterrupt { get; set; } = true;
}

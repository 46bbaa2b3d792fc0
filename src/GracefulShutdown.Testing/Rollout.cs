using GracefulShutdown.Testing.Harness;

namespace GracefulShutdown.Testing;

/// <summary>Runs a simulated rolling update of your app in process, with real sockets, and reports every request it cost.</summary>
/// <example>
/// <code>
/// RolloutReport report = await Rollout.RunAsync&lt;Program&gt;(new RolloutOptions { Path = "/orders" });
/// Assert.True(report.IsZeroDowntime, report.ToString());
/// </code>
/// </example>
public static class Rollout
{
    /// <summary>
    /// Starts <see cref="RolloutOptions.Replicas"/> replicas of <typeparamref name="TEntryPoint"/>'s app behind an in-process balancer,
    /// sends the load, and replaces every replica <see cref="RolloutOptions.Rounds"/> times the way a Kubernetes rolling update does:
    /// a new replica joins when it answers readiness, then the old one's termination begins (removal from the balancer, the preStop
    /// hook, the in-process SIGTERM, SIGKILL at the grace period).
    /// </summary>
    /// <typeparam name="TEntryPoint">A type in the app's entry assembly, usually its <c>Program</c>, as for <c>WebApplicationFactory&lt;TEntryPoint&gt;</c>.</typeparam>
    /// <param name="options">What to simulate.</param>
    /// <param name="cancellationToken">Abandons the rollout (the replicas are disposed).</param>
    /// <returns>The report: requests sent, succeeded and failed, failures by kind, and each terminated replica's timeline.</returns>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    /// <exception cref="TimeoutException">A replica did not answer readiness within <see cref="RolloutOptions.StartupTimeout"/>.</exception>
    public static Task<RolloutReport> RunAsync<TEntryPoint>(RolloutOptions options, CancellationToken cancellationToken = default)
        where TEntryPoint : class
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new RolloutRunner<TEntryPoint>(options).RunAsync(cancellationToken);
    }
}

using GracefulShutdown.Diagnostics;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Hosting;

/// <summary>
/// The library's hooks into the host's lifecycle: start-up checks, readiness once the host has started, the
/// <see cref="ShutdownConductor"/>'s stop in <see cref="StoppingAsync"/> (the only host phase before the server stops: the web
/// host registers the server last, so it stops before any <c>StopAsync</c>), and the report once the host has stopped.
/// </summary>
internal sealed class LifecycleHostedService(
    LifecycleState state,
    ShutdownConductor conductor,
    ShutdownObserver observer,
    EndpointStartupChecks endpointChecks,
    IOptions<GracefulShutdownOptions> options,
    IOptions<HostOptions> hostOptions,
    ILogger<LifecycleHostedService> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        GracefulShutdownOptions o = options.Value;
        logger.Configured(o.TrafficWait.Minimum, o.TrafficWait.Maximum, o.TrafficWait.QuietPeriod, o.DrainTimeout, o.StopMargin,
            hostOptions.Value.ShutdownTimeout, o.TerminationGracePeriod);
        endpointChecks.WarnBeforeStart();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        state.MarkHostStarted();
        endpointChecks.WarnAfterStart();
        return Task.CompletedTask;
    }

    /// <summary>The drain's steps the host waits for before it stops the server (see <see cref="ShutdownConductor"/>).</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => conductor.StopAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        state.EnterStopped();
        observer.ShutdownCompleted(state.SinceDrainStarted, state.Trigger);
        return Task.CompletedTask;
    }
}

using GracefulShutdown.Connections;
using GracefulShutdown.Diagnostics;
using GracefulShutdown.Endpoints;
using GracefulShutdown.Work;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Runs the shutdown sequence in the host's <see cref="StoppingAsync"/>: it is the only host phase before the server stops
/// (the web host registers the server last, so it stops before any <c>StopAsync</c>). For a signal or preStop the traffic wait
/// and the close of long-lived connections are over by then (ApplicationStopping fires after them); for the app's own
/// <c>StopApplication()</c> they run here.
/// </summary>
internal sealed class ShutdownSequence(
    GracefulShutdownService shutdown,
    LifecycleState state,
    ServerDrain serverDrain,
    LongLivedConnectionCloser connections,
    WorkDrain work,
    ShutdownReport report,
    EndpointStartupChecks endpointChecks,
    IOptions<GracefulShutdownOptions> options,
    IOptions<HostOptions> hostOptions,
    ILogger<ShutdownSequence> logger) : IHostedLifecycleService
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

    /// <summary>
    /// Trigger (if nothing else did) → traffic wait → long-lived connections closed → server drain, with work in progress
    /// waited for alongside; the close counts within the drain timeout.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await shutdown.DrainAndWaitAsync(DrainTrigger.StopApplication).WaitAsync(cancellationToken).ConfigureAwait(false);
        await connections.CloseAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        TimeSpan spent = connections.Elapsed;
        await Task.WhenAll(
            serverDrain.RunAsync(spent, cancellationToken),
            work.WaitAsync(options.Value.DrainTimeout - spent, cancellationToken)).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        state.EnterStopped();
        logger.ShutdownComplete(state.SinceDrainStarted.TotalSeconds, state.Trigger);
        report.Complete();
        return Task.CompletedTask;
    }
}

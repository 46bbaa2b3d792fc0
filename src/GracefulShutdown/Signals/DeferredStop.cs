using GracefulShutdown.Connections;
using GracefulShutdown.Diagnostics;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Signals;

/// <summary>
/// Stops the host for a signal only once the traffic wait is over and long-lived connections are closed, so that
/// <c>ApplicationStopping</c> fires when load balancers have stopped routing here rather than when the drain begins (SignalR,
/// for one, aborts its connections when it fires). <see cref="IGracefulShutdown.DrainStarted"/> stays the early signal.
/// </summary>
internal sealed class DeferredStop(GracefulShutdownService shutdown, LongLivedConnectionCloser closer, IHostApplicationLifetime lifetime,
    ILogger<DeferredStop> logger)
{
    private int _requested;

    /// <summary>Begins the drain (if it has not begun) and stops the host when the wait and the close are over.</summary>
    public void Request(DrainTrigger trigger)
    {
        shutdown.BeginDrain(trigger);
        if (Interlocked.Exchange(ref _requested, 1) == 0)
        {
            _ = StopAsync(trigger);
        }
    }

    private async Task StopAsync(DrainTrigger trigger)
    {
        try
        {
            await shutdown.DrainAndWaitAsync(trigger).ConfigureAwait(false);
            await closer.CloseAsync().ConfigureAwait(false);
        }
        finally
        {
            logger.StoppingHost();
            lifetime.StopApplication();
        }
    }
}

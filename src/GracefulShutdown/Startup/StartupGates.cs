using GracefulShutdown.Diagnostics;
using GracefulShutdown.Lifecycle;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Startup;

/// <summary>
/// Runs the start-up gates once the host has started (probes already answer then) and tells the lifecycle when every one
/// completed. A gate's token is canceled when the drain begins. A failing gate leaves the application unready and is logged; it never crashes the host.
/// </summary>
internal sealed class StartupGates(
    IEnumerable<StartupGate> gates,
    LifecycleState state,
    IServiceProvider services,
    IOptions<GracefulShutdownOptions> options,
    ILogger<StartupGates> logger) : IHostedLifecycleService
{
    private readonly StartupGate[] _gates = SidecarGate.Create(options.Value.Sidecar) is StartupGate sidecar ? [sidecar, .. gates] : [.. gates];

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        SidecarGate.WarnIfSidecarStopsFirst(options.Value, logger);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_gates.Length == 0)
        {
            state.MarkStartupWorkDone(0);
        }
        else
        {
            // Not awaited: the host must finish starting so that probes answer while the gates run.
            _ = RunAllAsync(state.DrainStarted);
        }

        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task RunAllAsync(CancellationToken drainStarted)
    {
        bool[] results = await Task.WhenAll(_gates.Select(gate => Task.Run(() => RunAsync(gate, drainStarted), CancellationToken.None)))
            .ConfigureAwait(false);
        if (results.All(static ok => ok))
        {
            state.MarkStartupWorkDone(_gates.Length);
        }
    }

    private async Task<bool> RunAsync(StartupGate gate, CancellationToken stopping)
    {
        try
        {
            await gate.WaitAsync(services, stopping).ConfigureAwait(false);
            logger.StartupGateCompleted(gate.Name);
            return true;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return false;
        }
#pragma warning disable CA1031 // A failing gate must leave the app unready, not crash the host; it is logged as an error.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.StartupGateFailed(gate.Name, ex);
            return false;
        }
    }
}

using GracefulShutdown.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown.Lifecycle;

/// <summary>
/// Stops the server with the library's own deadline rather than the remainder of the host's shared <c>ShutdownTimeout</c>,
/// so that the drain gets exactly <c>DrainTimeout</c> however long the traffic wait took (less what the drain participants,
/// such as closing long-lived connections, used of it). The host's own later <c>IServer.StopAsync</c> call then finds the server stopped.
/// </summary>
internal sealed class ServerDrain
{
    private readonly LifecycleState _state;
    private readonly RequestTracker _requests;
    private readonly IServiceProvider _services;
    private readonly ShutdownBudgetSource _budget;
    private readonly TimeProvider _time;
    private readonly ShutdownObserver _observer;

    public ServerDrain(LifecycleState state, RequestTracker requests, IServiceProvider services, ShutdownBudgetSource budget,
        TimeProvider time, ShutdownObserver observer)
    {
        _observer = observer;
        _state = state;
        _requests = requests;
        _services = services;
        _budget = budget;
        _time = time;
    }

    /// <param name="spent">The part of the drain timeout already used (the drain participants).</param>
    /// <param name="cancellationToken">The host's stop token.</param>
    public async Task RunAsync(TimeSpan spent, CancellationToken cancellationToken)
    {
        ShutdownBudget budget = _budget.Current;
        TimeSpan remaining = budget.ServerDrainTime(spent);
        _state.EnterStopping(budget.DrainDeadline(remaining));
        _observer.ServerDrainStarted(_requests.InFlight, remaining);

        // Resolved late: the server is registered by the web host, after this library.
        if (_services.GetService<IServer>() is not IServer server)
        {
            return;
        }

        long start = _time.GetTimestamp();
        long inFlightAtDeadline = -1;
        using var deadline = new CancellationTokenSource(remaining, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        using (linked.Token.Register(() => Interlocked.Exchange(ref inFlightAtDeadline, _requests.InFlight)))
        {
            try
            {
                await server.StopAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The deadline passed; the server aborted what was left.
            }
        }

        _observer.ServerDrainEnded(_time.GetElapsedTime(start), Math.Max(0, Interlocked.Read(ref inFlightAtDeadline)), budget.DrainTimeout);
    }
}

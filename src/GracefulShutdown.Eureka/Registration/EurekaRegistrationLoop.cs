using GracefulShutdown.Eureka.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Eureka.Registration;

/// <summary>
/// Runs <see cref="EurekaReconciler.StepAsync"/> in the background: a step, then a wait as long as the step asks for, cut short
/// when the application becomes ready or the drain begins. It never throws: an unexpected failure is logged and registration stops.
/// </summary>
internal sealed class EurekaRegistrationLoop : IDisposable
{
    private readonly EurekaReconciler _reconciler;
    private readonly IGracefulShutdown _shutdown;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();

    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _onDrain;
    private Task _run = Task.CompletedTask;

    public EurekaRegistrationLoop(EurekaReconciler reconciler, IGracefulShutdown shutdown, TimeProvider time, ILogger logger)
    {
        _reconciler = reconciler;
        _shutdown = shutdown;
        _time = time;
        _logger = logger;
    }

    public void Start()
    {
        // Both wake the loop so that it reacts at once rather than at the next heartbeat.
        _shutdown.WhenReady.ContinueWith(static (_, state) => ((EurekaRegistrationLoop)state!).Wake(), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _onDrain = _shutdown.DrainStarted.Register(static state => ((EurekaRegistrationLoop)state!).Wake(), this);
        _run = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Stops the loop and waits for the step in progress, so that no call can follow.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's stop budget is spent; the DELETE that follows has its own bound.
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                // Reset before the step reads the lifecycle, so that a change during the step ends the wait after it at once.
                Task wake = ResetWake();
                TimeSpan next = await _reconciler.StepAsync(stopping).ConfigureAwait(false);
                if (next > TimeSpan.Zero || next == Timeout.InfiniteTimeSpan)
                {
                    await WaitAsync(next, wake, stopping).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
#pragma warning disable CA1031 // The registration must never take the application down; the failure is logged as an error.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LoopFailed(ex);
        }
    }

    private Task ResetWake()
    {
        var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _wake, wake);
        return wake.Task;
    }

    private void Wake() => Volatile.Read(ref _wake).TrySetResult();

    private async Task WaitAsync(TimeSpan delay, Task wake, CancellationToken stopping)
    {
        using var cancelDelay = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        await Task.WhenAny(Task.Delay(delay, _time, cancelDelay.Token), wake).ConfigureAwait(false);
        await cancelDelay.CancelAsync().ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();
    }

    public void Dispose()
    {
        _onDrain.Dispose();
        _stopping.Dispose();
    }
}

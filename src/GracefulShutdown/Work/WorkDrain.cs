using GracefulShutdown.Diagnostics;

namespace GracefulShutdown.Work;

/// <summary>Waits, during the server drain, for the work begun with <c>IGracefulShutdown.BeginWork</c>; names what is left at the deadline.</summary>
internal sealed class WorkDrain
{
    private readonly WorkTracker _work;
    private readonly TimeProvider _time;
    private readonly ShutdownObserver _observer;

    public WorkDrain(WorkTracker work, TimeProvider time, ShutdownObserver observer)
    {
        _observer = observer;
        _work = work;
        _time = time;
    }

    /// <summary>Waits until no work runs, at most <paramref name="timeout"/>. Returns whether all work finished.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_work.Count == 0)
        {
            return true;
        }

        _observer.WorkWaiting(_work.Describe());
        try
        {
            await _work.WhenIdle().WaitAsync(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout, _time, cancellationToken).ConfigureAwait(false);
            _observer.WorkDone();
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            _observer.WorkOutstanding(_work.Describe());
            return false;
        }
    }
}

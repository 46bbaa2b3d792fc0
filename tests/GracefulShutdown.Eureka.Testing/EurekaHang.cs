namespace GracefulShutdown.Eureka.Testing;

/// <summary>
/// A hang fault from <see cref="EurekaServerStandIn.HangNext"/>: matching requests are held without a response
/// until <see cref="Release"/> (they then proceed normally) or until the stand-in stops listening or is disposed
/// (their connections are then aborted and they are recorded with status 0).
/// </summary>
public sealed class EurekaHang : IDisposable
{
    private readonly TaskCompletionSource _firstHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _heldCount;

    internal EurekaHang(EurekaOperation operation) => Operation = operation;

    /// <summary>Gets the operation this fault applies to.</summary>
    public EurekaOperation Operation { get; }

    /// <summary>Gets a task that completes when the first matching request is being held.</summary>
    public Task WhenHeld => _firstHeld.Task;

    /// <summary>Gets how many requests this fault has held so far.</summary>
    public int HeldCount => Volatile.Read(ref _heldCount);

    /// <summary>Gets a value indicating whether <see cref="Release"/> was called.</summary>
    public bool IsReleased => _released.Task.IsCompleted;

    internal Task Released => _released.Task;

    /// <summary>Lets every held request proceed and stops holding new ones. Idempotent.</summary>
    public void Release() => _released.TrySetResult();

    /// <summary>Same as <see cref="Release"/>.</summary>
    public void Dispose() => Release();

    internal void OnHeld()
    {
        Interlocked.Increment(ref _heldCount);
        _firstHeld.TrySetResult();
    }
}

namespace GracefulShutdown.RabbitMQ.Tests;

/// <summary>IGracefulShutdown for the contract's tests: the drain starts when the test says, units of work are counted.</summary>
internal sealed class FakeShutdown : IGracefulShutdown, IDisposable
{
    private readonly CancellationTokenSource _drainStarted = new();
    private readonly CancellationTokenSource _deadline = new();
    private int _work;

    public int WorkInProgress => Volatile.Read(ref _work);

    public int WorkBegun { get; private set; }

    public GracefulShutdownPhase Phase => _drainStarted.IsCancellationRequested ? GracefulShutdownPhase.Draining : GracefulShutdownPhase.Running;

    public Task WhenReady => Task.CompletedTask;

    public CancellationToken DrainStarted => _drainStarted.Token;

    public CancellationToken TrafficWaitEnded => _drainStarted.Token;

    public CancellationToken DrainDeadline => _deadline.Token;

    public ShutdownBudget Budget { get; } = ShutdownBudget.From(new GracefulShutdownOptions());

    public void StartDrain() => _drainStarted.Cancel();

    public Task DrainAsync(CancellationToken cancellationToken = default)
    {
        StartDrain();
        return Task.CompletedTask;
    }

    public void RequestStop() => StartDrain();

    public IDisposable BeginWork(string name)
    {
        Interlocked.Increment(ref _work);
        WorkBegun++;
        return new Unit(this);
    }

    public void Dispose()
    {
        _drainStarted.Dispose();
        _deadline.Dispose();
    }

    private sealed class Unit(FakeShutdown owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._work);
            }
        }
    }
}

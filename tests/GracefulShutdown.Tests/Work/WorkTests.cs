using GracefulShutdown.Work;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Work;

public sealed class WorkTests : IDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private readonly TestLifecycle _lifecycle;

    public WorkTests() => _lifecycle = new TestLifecycle(_time, new GracefulShutdownOptions());

    private WorkDrain Drain => _lifecycle.Services.GetRequiredService<WorkDrain>();

    public void Dispose() => _lifecycle.Dispose();

    [Fact]
    public async Task WaitAsync_HoldsUntilTheLastUnitIsDisposed()
    {
        IDisposable first = _lifecycle.Shutdown.BeginWork("orders");
        IDisposable second = _lifecycle.Shutdown.BeginWork("orders");

        Task<bool> waiting = Drain.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        first.Dispose();
        first.Dispose(); // twice is harmless: it must not end the second unit
        bool doneWithOneLeft = waiting.IsCompleted;
        second.Dispose();

        Assert.False(doneWithOneLeft);
        Assert.True(await waiting.WaitAsync(Safety));
        Assert.Contains(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 125 && r.Message.Contains("orders ×2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WaitAsync_AtTheDeadline_NamesTheWorkStillRunning()
    {
        using IDisposable order = _lifecycle.Shutdown.BeginWork("orders");
        using IDisposable email = _lifecycle.Shutdown.BeginWork("emails");

        Task<bool> waiting = Drain.WaitAsync(TimeSpan.FromSeconds(8), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(7));
        bool doneBeforeTheDeadline = waiting.IsCompleted;
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(doneBeforeTheDeadline);
        Assert.False(await waiting.WaitAsync(Safety));
        Assert.Contains(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id == 126 && r.Message.Contains("emails ×1, orders ×1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WaitAsync_NoWork_ReturnsAtOnceWithoutLogging()
    {
        _lifecycle.Shutdown.BeginWork("orders").Dispose();

        Assert.True(await Drain.WaitAsync(TimeSpan.FromSeconds(8), CancellationToken.None).WaitAsync(Safety));
        Assert.DoesNotContain(_lifecycle.Logs.GetSnapshot(), r => r.Id.Id is 125 or 126);
    }

    [Fact]
    public void InProgress_IsObservedOnTheMeter()
    {
        _ = Drain; // created with the host, like every lifecycle service
        using var inProgress = _lifecycle.Collect<int>("graceful_shutdown.work.in_progress");
        using IDisposable unit = _lifecycle.Shutdown.BeginWork("orders");

        inProgress.RecordObservableInstruments();

        Assert.Equal(1, inProgress.LastMeasurement?.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void BeginWork_WithoutAName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => _lifecycle.Shutdown.BeginWork(name));
    }
}

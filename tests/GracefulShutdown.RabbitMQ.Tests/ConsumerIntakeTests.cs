using System.Diagnostics.Metrics;
using GracefulShutdown.RabbitMQ.Consuming;
using GracefulShutdown.RabbitMQ.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace GracefulShutdown.RabbitMQ.Tests;

/// <summary>The intake contract with fakes: what is acked, given back or nacked, and what the stop waits for.</summary>
public sealed class ConsumerIntakeTests : IDisposable
{
    private readonly FakeShutdown _shutdown = new();
    private readonly FakeSettlement _broker = new();
    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose()
    {
        _shutdown.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task Delivery_IsAckedOnlyAfterTheHandlerSucceeds_AsAUnitOfWorkTheStopWaitsFor()
    {
        ConsumerIntake intake = Create();
        var release = new TaskCompletionSource();
        Task handling = intake.HandleAsync(_broker, 1, redelivered: false, _ => release.Task);

        Assert.Equal(1, _shutdown.WorkInProgress);
        Assert.Empty(_broker.Calls);
        Task idle = intake.WhenIdleAsync(CancellationToken.None);
        Assert.False(idle.IsCompleted);

        release.SetResult();
        await handling;
        await idle;
        Assert.Equal(["ack 1"], _broker.Calls);
        Assert.Equal(0, _shutdown.WorkInProgress);
    }

    [Fact]
    public async Task DrainStarted_UnitInHandFinishesAndIsAcked_LaterDeliveriesAreGivenBackWithoutRunning()
    {
        ConsumerIntake intake = Create();
        var release = new TaskCompletionSource();
        Task inHand = intake.HandleAsync(_broker, 1, redelivered: false, _ => release.Task);

        _shutdown.StartDrain();
        Assert.True(intake.Stopped);
        int ran = 0;
        await intake.HandleAsync(_broker, 2, redelivered: false, _ => { ran++; return Task.CompletedTask; });
        await intake.HandleAsync(_broker, 3, redelivered: false, _ => { ran++; return Task.CompletedTask; });
        Assert.Equal(0, ran);

        release.SetResult();
        await inHand;
        Assert.Equal(["nack 2 requeue=True", "nack 3 requeue=True", "ack 1"], _broker.Calls);
        Assert.Equal(1, _shutdown.WorkBegun);
    }

    [Fact]
    public async Task Stop_WithoutADrain_GivesBackWhatArrivesAfter()
    {
        ConsumerIntake intake = Create();
        Assert.True(intake.Stop());
        Assert.False(intake.Stop());
        await intake.HandleAsync(_broker, 7, redelivered: false, _ => throw new InvalidOperationException("must not run"));
        Assert.Equal(["nack 7 requeue=True"], _broker.Calls);
    }

    [Theory]
    [InlineData(RabbitMQFailurePolicy.Requeue, false, true)]
    [InlineData(RabbitMQFailurePolicy.Requeue, true, true)]
    [InlineData(RabbitMQFailurePolicy.RequeueOnceThenDeadLetter, false, true)]
    [InlineData(RabbitMQFailurePolicy.RequeueOnceThenDeadLetter, true, false)]
    [InlineData(RabbitMQFailurePolicy.DeadLetter, false, false)]
    public async Task HandlerThrows_NackedPerPolicy_NeverAcked_AndTheWorkEnds(RabbitMQFailurePolicy policy, bool redelivered, bool requeue)
    {
        ConsumerIntake intake = Create(policy);
        await intake.HandleAsync(_broker, 5, redelivered, _ => throw new FormatException("malformed"));
        Assert.Equal([$"nack 5 requeue={requeue}"], _broker.Calls);
        Assert.Equal(0, _shutdown.WorkInProgress);
        Assert.True(intake.WhenIdleAsync(CancellationToken.None).IsCompleted);
    }

    [Fact]
    public async Task HandlerThrows_DuringTheDrain_DoesNotBlockIt()
    {
        ConsumerIntake intake = Create();
        var failing = new TaskCompletionSource();
        Task inHand = intake.HandleAsync(_broker, 1, redelivered: false, _ => failing.Task);
        _shutdown.StartDrain();
        Task idle = intake.WhenIdleAsync(CancellationToken.None);

        failing.SetException(new InvalidOperationException("handler failed"));
        await inHand;
        await idle;
        Assert.Equal(["nack 1 requeue=True"], _broker.Calls);
    }

    [Fact]
    public async Task BrokerGone_SettlingFailsQuietly_TheUnitStillEnds()
    {
        ConsumerIntake intake = Create();
        _broker.BrokerGone = true;
        await intake.HandleAsync(_broker, 1, redelivered: false, _ => Task.CompletedTask);
        _shutdown.StartDrain();
        await intake.HandleAsync(_broker, 2, redelivered: false, _ => Task.CompletedTask);
        Assert.Equal(0, _shutdown.WorkInProgress);
        Assert.True(intake.WhenIdleAsync(CancellationToken.None).IsCompleted);
    }

    [Fact]
    public async Task TheHandlerToken_IsTheDrainDeadline()
    {
        ConsumerIntake intake = Create();
        CancellationToken seen = default;
        await intake.HandleAsync(_broker, 1, redelivered: false, token => { seen = token; return Task.CompletedTask; });
        Assert.Equal(_shutdown.DrainDeadline, seen);
    }

    private ConsumerIntake Create(RabbitMQFailurePolicy policy = RabbitMQFailurePolicy.Requeue) =>
        new("orders", policy, _shutdown, new RabbitMQMetrics(_meters.GetRequiredService<IMeterFactory>()), NullLogger.Instance);
}

using GracefulShutdown.RabbitMQ.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace GracefulShutdown.RabbitMQ.Consuming;

/// <summary>
/// One consumer through the lifecycle. Start: connect (retrying while the broker is down, without holding the host's start),
/// declare, consume. Drain start: cancel the consumer (<see cref="ConsumerIntake"/> gives back what arrives after). The
/// host's stop: the conductor waits for the units in hand (work drain); then this service's <c>StopAsync</c> closes the channel
/// and the connection, bounded by the host's stop token, aborting the connection if the broker does not answer.
/// </summary>
internal sealed class RabbitMQConsumer : IHostedService, IDisposable
{
    private readonly RabbitMQConsumerOptions _options;
    private readonly Func<RabbitMQDelivery, CancellationToken, Task> _handler;
    private readonly IGracefulShutdown _shutdown;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sync = new();
    private Task _running = Task.CompletedTask;
    private Task? _stopTaking;
    private IConnection? _connection;
    private IChannel? _channel;
    private string? _consumerTag;
    private CancellationTokenRegistration _onDrain;

    public RabbitMQConsumer(string name, RabbitMQConsumerOptions options, Func<RabbitMQDelivery, CancellationToken, Task> handler,
        IGracefulShutdown shutdown, TimeProvider time, RabbitMQMetrics metrics, ILogger logger)
    {
        _options = options;
        _handler = handler;
        _shutdown = shutdown;
        _time = time;
        _logger = logger;
        Intake = new ConsumerIntake(name, options.OnFailure, shutdown, metrics, logger);
    }

    public ConsumerIntake Intake { get; }

    /// <summary>Gets whether the consumer is registered on an open connection (readiness, when it includes the broker).</summary>
    public bool IsConsuming
    {
        get
        {
            lock (_sync)
            {
                if (_consumerTag is null)
                {
                    return false;
                }
            }

            return Volatile.Read(ref _connection)?.IsOpen == true;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Off the host's start: a broker that is down must not hold the start, only readiness.
        _running = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        _onDrain = _shutdown.DrainStarted.Register(static c => _ = ((RabbitMQConsumer)c!).StopTakingAsync(), this);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await StopTakingAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            await _running.WaitAsync(cancellationToken).ConfigureAwait(false);

            // The conductor's work drain waited for the units in hand; this covers a stop without a drain, and a stop token that
            // fires first ends the wait (the channel close below requeues what was not acked).
            await Intake.WhenIdleAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The budget is spent: close now.
        }

        await CloseAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _onDrain.Dispose();
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        using var untilDrain = CancellationTokenSource.CreateLinkedTokenSource(stopping, _shutdown.DrainStarted);
        CancellationToken token = untilDrain.Token;
        var factory = new ConnectionFactory
        {
            Uri = _options.Url!,
            ClientProvidedName = "GracefulShutdown.RabbitMQ:" + Intake.Name,
            AutomaticRecoveryEnabled = true,
        };

        while (!token.IsCancellationRequested)
        {
            try
            {
                await ConsumeAsync(factory, token).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Down at start, refused, or gone while connecting: retry until the drain begins.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _logger.BrokerUnreachable(Intake.Name, _options.ConnectRetryInterval, ex);
                await DiscardAsync().ConfigureAwait(false);
                try
                {
                    await Task.Delay(_options.ConnectRetryInterval, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ConsumeAsync(ConnectionFactory factory, CancellationToken token)
    {
        IConnection connection = await factory.CreateConnectionAsync(token).ConfigureAwait(false);
        Volatile.Write(ref _connection, connection);

        // Publisher confirms: a handler's publish returns once the broker has the message, so an ack follows a stored result.
        IChannel channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), token).ConfigureAwait(false);
        Volatile.Write(ref _channel, channel);
        await channel.BasicQosAsync(0, checked((ushort)_options.Prefetch), false, token).ConfigureAwait(false);
        if (_options.DeclareQueue)
        {
            await channel.QueueDeclareAsync(_options.Queue, durable: true, exclusive: false, autoDelete: false, arguments: null,
                cancellationToken: token).ConfigureAwait(false);
        }

        if (_options.ConfigureChannel is { } configure)
        {
            await configure(channel, token).ConfigureAwait(false);
        }

        var consumer = new AsyncEventingBasicConsumer(channel);
        var settlement = new ChannelSettlement(channel);
        consumer.ReceivedAsync += (_, delivery) => Intake.HandleAsync(settlement, delivery.DeliveryTag, delivery.Redelivered, cancellationToken =>
            _handler(new RabbitMQDelivery(channel, delivery.Body, delivery.BasicProperties, delivery.Exchange, delivery.RoutingKey,
                delivery.Redelivered), cancellationToken));
        string tag = await channel.BasicConsumeAsync(_options.Queue, autoAck: false, consumer, token).ConfigureAwait(false);
        lock (_sync)
        {
            _consumerTag = tag;
        }

        _logger.Consuming(Intake.Name, _options.Queue, _options.Prefetch);
    }

    /// <summary>Stops taking work once: intake refuses new deliveries, and the broker is told to stop delivering (basic.cancel).</summary>
    private Task StopTakingAsync()
    {
        lock (_sync)
        {
            return _stopTaking ??= CancelConsumerAsync();
        }
    }

    private async Task CancelConsumerAsync()
    {
        await Task.Yield();
        Intake.Stop();
        _logger.IntakeStopped(Intake.Name, Intake.InHand);
        string? tag;
        lock (_sync)
        {
            tag = _consumerTag;
        }

        if (tag is null || Volatile.Read(ref _channel) is not { IsOpen: true } channel)
        {
            return;
        }

        // A broker that went away never answers cancel-ok: bounded by the drain timeout, the channel close follows anyway.
        using var bound = new CancellationTokenSource(_shutdown.Budget.DrainTimeout, _time);
        try
        {
            await channel.BasicCancelAsync(tag, noWait: false, bound.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Deliveries that still arrive are given back by the intake; the close requeues the rest.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.CloseFailed(Intake.Name, "basic.cancel", ex);
        }
    }

    /// <summary>Closes the channel, then the connection: unacked deliveries return to the queue. Aborts at the stop token.</summary>
    private async Task CloseAsync(CancellationToken cancellationToken)
    {
        IChannel? channel = Volatile.Read(ref _channel);
        IConnection? connection = Volatile.Read(ref _connection);
        if (connection is null)
        {
            return;
        }

        string step = "channel";
        try
        {
            if (channel is { IsOpen: true })
            {
                await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
            }

            step = "connection";
            if (connection.IsOpen)
            {
                await connection.CloseAsync(cancellationToken).ConfigureAwait(false);
            }

            _logger.Closed(Intake.Name);
        }
#pragma warning disable CA1031 // The broker is gone or slow: abort, never hold the process past the budget.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.CloseFailed(Intake.Name, step, ex);
        }
        finally
        {
            if (Interlocked.Exchange(ref _channel, null) is IChannel closed)
            {
                await closed.DisposeAsync().ConfigureAwait(false);
            }

            await DiscardAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Drops the connection without waiting for the broker.</summary>
    private async Task DiscardAsync()
    {
        if (Interlocked.Exchange(ref _connection, null) is IConnection connection)
        {
            try
            {
                await connection.AbortAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Nothing more to do for a connection that is gone.
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class ChannelSettlement(IChannel channel) : IDeliverySettlement
    {
        public ValueTask AckAsync(ulong deliveryTag, CancellationToken cancellationToken) =>
            channel.BasicAckAsync(deliveryTag, multiple: false, cancellationToken);

        public ValueTask NackAsync(ulong deliveryTag, bool requeue, CancellationToken cancellationToken) =>
            channel.BasicNackAsync(deliveryTag, multiple: false, requeue, cancellationToken);
    }
}

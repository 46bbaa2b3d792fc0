using GracefulShutdown.RabbitMQ.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.RabbitMQ.Consuming;

/// <summary>
/// The intake contract for one consumer, independent of the client: once intake stops (the drain began), a delivery is given
/// back (nack with requeue) without being started; a delivery taken runs as a unit of work (<c>IGracefulShutdown.BeginWork</c>),
/// which the host's stop waits for; it is acked only after its handler succeeded, and on failure nacked per the policy. The
/// owner closes the channel and connection once <see cref="WhenIdleAsync"/> completes.
/// </summary>
internal sealed class ConsumerIntake(string name, RabbitMQFailurePolicy policy, IGracefulShutdown shutdown, RabbitMQMetrics metrics, ILogger logger)
{
    private readonly Lock _sync = new();
    private int _inHand;
    private bool _stopped;
    private TaskCompletionSource? _idle;

    public string Name => name;

    /// <summary>Gets whether new deliveries are refused: intake stopped, or the drain began.</summary>
    public bool Stopped
    {
        get
        {
            lock (_sync)
            {
                return _stopped || shutdown.DrainStarted.IsCancellationRequested;
            }
        }
    }

    public int InHand
    {
        get
        {
            lock (_sync)
            {
                return _inHand;
            }
        }
    }

    /// <summary>Stops taking work. Returns whether this call stopped it.</summary>
    public bool Stop()
    {
        lock (_sync)
        {
            bool first = !_stopped;
            _stopped = true;
            return first;
        }
    }

    /// <summary>Handles one delivery under the contract.</summary>
    public async Task HandleAsync(IDeliverySettlement settlement, ulong deliveryTag, bool redelivered, Func<CancellationToken, Task> handler)
    {
        IDisposable? work = null;
        lock (_sync)
        {
            if (!_stopped && !shutdown.DrainStarted.IsCancellationRequested)
            {
                _inHand++;

                // Begun under the lock: once intake stops, every unit the stop must wait for is already counted.
                work = shutdown.BeginWork(name);
            }
        }

        if (work is null)
        {
            // Received (prefetched) but not started: give it back for another replica.
            logger.DeliveryReturned(name, deliveryTag);
            await SettleAsync(settlement, deliveryTag, requeue: true, "returned").ConfigureAwait(false);
            return;
        }

        try
        {
            Exception? failure = null;
            try
            {
                await handler(shutdown.DrainDeadline).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A failing handler must neither lose the message nor stop the consumer.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex;
            }

            if (failure is null)
            {
                await SettleAsync(settlement, deliveryTag, requeue: null, "acked").ConfigureAwait(false);
                return;
            }

            bool requeue = policy switch
            {
                RabbitMQFailurePolicy.DeadLetter => false,
                RabbitMQFailurePolicy.RequeueOnceThenDeadLetter => !redelivered,
                _ => true,
            };
            logger.HandlerFailed(name, deliveryTag, requeue ? "nacked with requeue" : "nacked without requeue (dead-lettered)", failure);
            await SettleAsync(settlement, deliveryTag, requeue, requeue ? "failed_requeued" : "failed_dead_lettered").ConfigureAwait(false);
        }
        finally
        {
            work.Dispose();
            TaskCompletionSource? idle = null;
            lock (_sync)
            {
                if (--_inHand == 0)
                {
                    idle = _idle;
                    _idle = null;
                }
            }

            idle?.TrySetResult();
        }
    }

    /// <summary>Completes when no delivery is in hand (its ack or nack sent).</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_inHand == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Ack (<paramref name="requeue"/> null) or nack; a broker that went away is logged, never thrown.</summary>
    private async Task SettleAsync(IDeliverySettlement settlement, ulong deliveryTag, bool? requeue, string outcome)
    {
        try
        {
            if (requeue is bool again)
            {
                await settlement.NackAsync(deliveryTag, again, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await settlement.AckAsync(deliveryTag, CancellationToken.None).ConfigureAwait(false);
            }

            metrics.Settled(name, outcome);
        }
#pragma warning disable CA1031 // The channel or connection is gone: the broker requeues what was not settled.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.SettleFailed(name, deliveryTag, outcome, ex);
        }
    }
}

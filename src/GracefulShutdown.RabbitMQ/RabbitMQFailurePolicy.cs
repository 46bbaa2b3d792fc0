namespace GracefulShutdown.RabbitMQ;

/// <summary>What happens to a delivery whose handler throws.</summary>
public enum RabbitMQFailurePolicy
{
    /// <summary>
    /// Nack with requeue: the broker delivers the message again (to this or another replica). Nothing is lost; a message that
    /// always fails is redelivered until a handler accepts it, so pair it with a handler that recognises poison messages.
    /// </summary>
    Requeue = 0,

    /// <summary>
    /// Requeue the first failure; reject (nack without requeue) a delivery that was already redelivered. The broker routes a
    /// rejected message to the queue's dead-letter exchange: declare one (<c>x-dead-letter-exchange</c>) or it is dropped.
    /// </summary>
    RequeueOnceThenDeadLetter = 1,

    /// <summary>Nack without requeue at once: the queue's dead-letter exchange receives it (declare one, or it is dropped).</summary>
    DeadLetter = 2,
}

using Microsoft.Extensions.Configuration;

namespace GracefulShutdown.WorkerSample;

/// <summary>The sample's contract (other tests rely on it): keys and defaults.</summary>
internal sealed record WorkerSettings(Uri Url, string Queue, string ResultQueue, int ProcessingMs, int Prefetch, PlainAck PlainAck,
    bool OwnResultConnection)
{
    public static WorkerSettings From(IConfiguration configuration) => new(
        new Uri(configuration["RabbitMQ:Url"] ?? "amqp://guest:guest@127.0.0.1:5672/"),
        configuration["Worker:Queue"] ?? "orders",
        configuration["Worker:ResultQueue"] ?? "orders.done",
        configuration.GetValue("Worker:ProcessingMs", 200),
        configuration.GetValue("Worker:Prefetch", 10),
        configuration["Sample:PlainAck"] switch
        {
            null or "manual" => PlainAck.Manual,
            "auto" => PlainAck.Auto,
            string other => throw new InvalidOperationException($"Sample:PlainAck ({other}) must be manual or auto."),
        },
        configuration["Worker:ResultConnection"] switch
        {
            null or "consumer" => false,
            "own" => true,
            string other => throw new InvalidOperationException($"Worker:ResultConnection ({other}) must be consumer or own."),
        });
}

/// <summary>How the plain consumer (Sample:UseLibrary=false) acknowledges: the two patterns of the RabbitMQ tutorials.</summary>
internal enum PlainAck
{
    /// <summary>Ack after the work (tutorial "Work Queues").</summary>
    Manual,

    /// <summary><c>autoAck: true</c> (tutorial "Hello World").</summary>
    Auto,
}

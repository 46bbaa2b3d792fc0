using Microsoft.Extensions.Configuration;

namespace GracefulShutdown.WorkerSample;

/// <summary>The sample's contract (other tests rely on it): keys and defaults.</summary>
internal sealed record WorkerSettings(Uri Url, string Queue, string ResultQueue, int ProcessingMs, int Prefetch)
{
    public static WorkerSettings From(IConfiguration configuration) => new(
        new Uri(configuration["RabbitMQ:Url"] ?? "amqp://guest:guest@127.0.0.1:5672/"),
        configuration["Worker:Queue"] ?? "orders",
        configuration["Worker:ResultQueue"] ?? "orders.done",
        configuration.GetValue("Worker:ProcessingMs", 200),
        configuration.GetValue("Worker:Prefetch", 10));
}

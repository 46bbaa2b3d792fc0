using GracefulShutdown.RabbitMQ.Consuming;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulShutdown.RabbitMQ.Hosting;

/// <summary>Readiness includes the broker: unhealthy while the consumer's connection is not open.</summary>
internal sealed class RabbitMQConnectionHealthCheck(RabbitMQConsumer consumer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(consumer.IsConnected
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"RabbitMQ consumer '{consumer.Intake.Name}' has no open connection to the broker."));
}

using GracefulShutdown.RabbitMQ.Consuming;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulShutdown.RabbitMQ.Hosting;

/// <summary>Readiness includes the broker: unhealthy until the consumer is consuming, and while its connection is not open.</summary>
internal sealed class RabbitMQConnectionHealthCheck(RabbitMQConsumer consumer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(consumer.IsConsuming
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"RabbitMQ consumer '{consumer.Intake.Name}' is not consuming (no open connection to the broker, or not registered yet)."));
}

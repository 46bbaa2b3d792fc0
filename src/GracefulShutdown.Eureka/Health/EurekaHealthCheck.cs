using GracefulShutdown.Eureka.Registration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulShutdown.Eureka.Health;

/// <summary>Reports the registration; never Unhealthy, so a Eureka outage never takes the instance out of its Service or restarts it.</summary>
internal sealed class EurekaHealthCheck(EurekaRegistrationState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        EurekaRegistration registration = state.Registration;
        int failures = state.ConsecutiveFailures;
        var data = new Dictionary<string, object>
        {
            ["registration"] = registration.ToString(),
            ["consecutiveFailures"] = failures,
        };

        HealthCheckResult result = registration switch
        {
            EurekaRegistration.Off => HealthCheckResult.Healthy("The Eureka client is off.", data),
            EurekaRegistration.NotRegistered => HealthCheckResult.Degraded(
                $"Not registered with Eureka; retrying in the background. Last error: {state.LastError ?? "none yet"}.", data: data),
            _ when failures > 0 => HealthCheckResult.Degraded(
                $"Registered as {registration}, but the last {failures} calls to Eureka failed: {state.LastError}.", data: data),
            EurekaRegistration.Starting => HealthCheckResult.Healthy("Registered with Eureka as STARTING; UP once the application is ready.", data),
            EurekaRegistration.Up => HealthCheckResult.Healthy("Registered with Eureka as UP.", data),
            EurekaRegistration.OutOfService => HealthCheckResult.Healthy("OUT_OF_SERVICE in Eureka while the application drains.", data),
            _ => HealthCheckResult.Healthy("Deregistered from Eureka.", data),
        };
        return Task.FromResult(result);
    }
}

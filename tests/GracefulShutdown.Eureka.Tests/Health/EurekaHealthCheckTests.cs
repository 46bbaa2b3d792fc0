using GracefulShutdown.Eureka.Health;
using GracefulShutdown.Eureka.Registration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GracefulShutdown.Eureka.Tests.Health;

public class EurekaHealthCheckTests
{
    private static async Task<HealthCheckResult> Check(EurekaRegistrationState state) =>
        await new EurekaHealthCheck(state).CheckHealthAsync(new HealthCheckContext());

    [Theory]
    [InlineData((int)EurekaRegistration.Off, HealthStatus.Healthy)]
    [InlineData((int)EurekaRegistration.NotRegistered, HealthStatus.Degraded)]
    [InlineData((int)EurekaRegistration.Starting, HealthStatus.Healthy)]
    [InlineData((int)EurekaRegistration.Up, HealthStatus.Healthy)]
    [InlineData((int)EurekaRegistration.OutOfService, HealthStatus.Healthy)]
    [InlineData((int)EurekaRegistration.Deregistered, HealthStatus.Healthy)]
    public async Task Check_ReportsTheRegistration_NeverUnhealthy(int registration, HealthStatus expected)
    {
        var state = new EurekaRegistrationState();
        state.Set((EurekaRegistration)registration);

        Assert.Equal(expected, (await Check(state)).Status);
    }

    [Fact]
    public async Task Check_RegisteredButFailing_IsDegradedWithTheError()
    {
        var state = new EurekaRegistrationState();
        state.Set(EurekaRegistration.Up);
        state.RecordFailure("heartbeat: TimedOut (no answer within 5 s)");

        HealthCheckResult result = await Check(state);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("TimedOut", result.Description, StringComparison.Ordinal);
    }
}

using GracefulShutdown.Eureka.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Eureka.Configuration;

/// <summary>Start-up checks that switch the client off or warn; none of them fails start-up.</summary>
internal static class EurekaStartupChecks
{
    /// <summary>Returns why the client is off, or <see langword="null"/> when it registers.</summary>
    public static string? DisabledReason(EurekaClientOptions options, int serverCount)
    {
        if (!options.Enabled)
        {
            return "eureka:client:enabled is false";
        }

        if (!options.ShouldRegisterWithEureka)
        {
            return "eureka:client:shouldRegisterWithEureka is false";
        }

        return serverCount == 0 ? "eureka:client:serviceUrl is not set" : null;
    }

    /// <summary>Warns when the traffic wait ends before Eureka's callers can have stopped routing here (see the README).</summary>
    public static void WarnIfTrafficWaitTooShort(ILogger logger, EurekaClientOptions client, ShutdownBudget budget)
    {
        if (client.PropagationSeconds <= 0)
        {
            return;
        }

        var propagation = TimeSpan.FromSeconds(client.PropagationSeconds);
        if (budget.TrafficWaitMaximum < propagation)
        {
            // The grace period the budget would need with a wait as long as the propagation.
            logger.TrafficWaitTooShort(budget.TrafficWaitMaximum, propagation, budget.Total - budget.TrafficWaitMaximum + propagation);
        }
    }
}

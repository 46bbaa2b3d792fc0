using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown;

/// <summary>
/// Returned by <c>AddGracefulShutdown()</c> so that start-up gates and add-ons (such as Eureka) can be chained.
/// </summary>
public interface IGracefulShutdownBuilder
{
    /// <summary>Gets the service collection the library was added to.</summary>
    IServiceCollection Services { get; }
}

using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown.Hosting;

internal sealed record GracefulShutdownBuilder(IServiceCollection Services) : IGracefulShutdownBuilder;

/// <summary>Marks that the library's services are registered, so registration runs once.</summary>
internal sealed class GracefulShutdownMarker;

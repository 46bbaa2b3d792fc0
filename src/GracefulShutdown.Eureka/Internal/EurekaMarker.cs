namespace GracefulShutdown.Eureka.Internal;

/// <summary>Marks that the Eureka services are registered, so <c>AddEureka()</c> runs once.</summary>
internal sealed class EurekaMarker;

namespace GracefulShutdown.Grpc.Hosting;

/// <summary>Marks the service collection as configured by <c>AddGrpc()</c>, which makes the call idempotent.</summary>
internal sealed class GrpcMarker
{
}

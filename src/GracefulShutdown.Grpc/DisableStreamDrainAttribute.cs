namespace GracefulShutdown.Grpc;

/// <summary>
/// Keeps a server-streaming or duplex gRPC method (or every method of a service) running when the traffic wait is over,
/// instead of ending it with status UNAVAILABLE. The method then ends by itself, typically on
/// <c>IGracefulShutdown.DrainDeadline</c>, before the drain timeout aborts it.
/// </summary>
/// <remarks>
/// Put it on the service method or class, or add it to the endpoint's metadata
/// (<c>app.MapGrpcService&lt;T&gt;().WithMetadata(new DisableStreamDrainAttribute())</c>).
/// </remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DisableStreamDrainAttribute : Attribute
{
}

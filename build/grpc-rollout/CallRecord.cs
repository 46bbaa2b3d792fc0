using Grpc.Core;

namespace GracefulShutdown.GrpcRollout;

/// <summary>One call of the load: when it started and ended, its status, and the replica (pid) that answered.</summary>
internal sealed record CallRecord(double Start, double End, StatusCode Status, string? ServedBy, string? Detail);

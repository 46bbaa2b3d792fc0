using Grpc.Net.Client;

namespace GracefulShutdown.GrpcRollout;

/// <summary>Where the load goes and how a replica enters and leaves rotation.</summary>
internal interface IBalancer : IAsyncDisposable
{
    GrpcChannel CreateChannel();

    Task AddAsync(Replica replica);

    /// <summary>Endpoint removal: no new call goes to the replica; calls in flight finish.</summary>
    Task RemoveAsync(Replica replica);
}

using Grpc.Core;

namespace GracefulShutdown.GrpcSample;

/// <summary>greet.Greeter: a unary call and a server stream.</summary>
internal sealed partial class GreeterService(ILogger<GreeterService> logger) : Greeter.GreeterBase
{
    // Which process answered, for build/grpc-rollout's per-replica counts (a trailer, so the message stays the contract's).
    private static readonly string ProcessId = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
    {
        context.ResponseTrailers.Add("served-by", ProcessId);
        return Task.FromResult(new HelloReply { Message = $"Hello {request.Name}" });
    }

    public override async Task StreamTicks(TickRequest request, IServerStreamWriter<Tick> responseStream, ServerCallContext context)
    {
        if (request.Count < 0 || request.IntervalMs is < 0 or > 600_000)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"count must be 0 or more (0: until the call ends) and interval_ms from 0 to 600000; they were {request.Count} and {request.IntervalMs}."));
        }

        StreamStarted(logger, request.Count, request.IntervalMs);

        // The context's token is canceled when the client goes away and, with the library, when the traffic wait is over:
        // the call then ends with UNAVAILABLE and the client retries on another replica.
        for (int n = 1; request.Count == 0 || n <= request.Count; n++)
        {
            await responseStream.WriteAsync(new Tick { N = n }, context.CancellationToken);
            await Task.Delay(request.IntervalMs, context.CancellationToken);
        }
    }

    // Debug-level line (off by default) that tests wait on to know a stream is open.
    [LoggerMessage(1, LogLevel.Debug, "Stream of {Count} ticks every {IntervalMs} ms started")]
    private static partial void StreamStarted(ILogger logger, int count, int intervalMs);
}

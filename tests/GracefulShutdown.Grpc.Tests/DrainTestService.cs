using Grpc.Core;

namespace GracefulShutdown.Grpc.Tests;

/// <summary>Streams that behave as handlers do in the wild; each reports how it ended.</summary>
internal sealed class DrainTestService(HandlerEvents events) : DrainTest.DrainTestBase
{
    public override async Task Drained(Empty request, IServerStreamWriter<Item> responseStream, ServerCallContext context)
    {
        try
        {
            for (int n = 1; ; n++)
            {
                await responseStream.WriteAsync(new Item { N = n }, context.CancellationToken);
                await Task.Delay(10, context.CancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            events.TokenCanceled.TrySetResult();
            throw;
        }
    }

    [GracefulShutdown.Grpc.DisableStreamDrain]
    public override async Task OptedOut(Empty request, IServerStreamWriter<Item> responseStream, ServerCallContext context)
    {
        for (int n = 1; !context.CancellationToken.IsCancellationRequested; n++)
        {
            await responseStream.WriteAsync(new Item { N = n });
            await Task.Delay(10, CancellationToken.None);
        }
    }

    public override async Task IgnoresToken(Empty request, IServerStreamWriter<Item> responseStream, ServerCallContext context)
    {
        try
        {
            for (int n = 1; ; n++)
            {
                await responseStream.WriteAsync(new Item { N = n });
                await Task.Delay(10, CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
            events.WriteRefused.TrySetResult();
        }
    }

    public override async Task Echo(IAsyncStreamReader<Item> requestStream, IServerStreamWriter<Item> responseStream, ServerCallContext context)
    {
        // A duplex handler that returns normally when its token is canceled.
        try
        {
            while (await requestStream.MoveNext(context.CancellationToken))
            {
                await responseStream.WriteAsync(requestStream.Current);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override Task<Item> Unary(Empty request, ServerCallContext context) => Task.FromResult(new Item { N = 42 });
}

internal sealed class HandlerEvents
{
    public TaskCompletionSource TokenCanceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource WriteRefused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

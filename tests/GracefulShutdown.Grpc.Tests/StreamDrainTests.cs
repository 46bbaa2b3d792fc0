using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace GracefulShutdown.Grpc.Tests;

public sealed class StreamDrainTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_server_stream_ends_with_UNAVAILABLE_when_the_traffic_wait_is_over_and_its_token_is_canceled()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync();
        var client = new DrainTest.DrainTestClient(host.Channel);
        using AsyncServerStreamingCall<Item> call = client.Drained(new Empty());
        Assert.True(await call.ResponseStream.MoveNext());

        await host.Lifecycle.DrainAsync().WaitAsync(Timeout);

        RpcException ended = await Assert.ThrowsAsync<RpcException>(() => ReadToEndAsync(call.ResponseStream));
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        Assert.Equal("The server is shutting down; retry the call on another replica.", ended.Status.Detail);
        await host.App.Services.GetRequiredService<HandlerEvents>().TokenCanceled.Task.WaitAsync(Timeout);
        Assert.Contains("/drain_test.DrainTest/Drained", await host.Logs.WaitForEventAsync(402), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_handler_that_ignores_its_token_is_ended_anyway_and_its_next_write_is_refused()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync();
        var client = new DrainTest.DrainTestClient(host.Channel);
        using AsyncServerStreamingCall<Item> call = client.IgnoresToken(new Empty());
        Assert.True(await call.ResponseStream.MoveNext());

        await host.Lifecycle.DrainAsync().WaitAsync(Timeout);

        RpcException ended = await Assert.ThrowsAsync<RpcException>(() => ReadToEndAsync(call.ResponseStream));
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
        await host.App.Services.GetRequiredService<HandlerEvents>().WriteRefused.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_duplex_call_whose_handler_returns_on_the_canceled_token_ends_with_UNAVAILABLE_not_OK()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync();
        var client = new DrainTest.DrainTestClient(host.Channel);
        using AsyncDuplexStreamingCall<Item, Item> call = client.Echo();
        await call.RequestStream.WriteAsync(new Item { N = 7 });
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(7, call.ResponseStream.Current.N);

        await host.Lifecycle.DrainAsync().WaitAsync(Timeout);

        RpcException ended = await Assert.ThrowsAsync<RpcException>(() => ReadToEndAsync(call.ResponseStream));
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
    }

    [Fact]
    public async Task A_method_marked_DisableStreamDrain_keeps_streaming_after_the_traffic_wait()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync();
        var client = new DrainTest.DrainTestClient(host.Channel);
        using var cancel = new CancellationTokenSource();
        using AsyncServerStreamingCall<Item> call = client.OptedOut(new Empty(), cancellationToken: cancel.Token);
        Assert.True(await call.ResponseStream.MoveNext());

        await host.Lifecycle.DrainAsync().WaitAsync(Timeout);
        Assert.True(host.Lifecycle.TrafficWaitEnded.IsCancellationRequested);

        // Messages written after the wait was over still arrive.
        int atWaitEnd = call.ResponseStream.Current.N;
        int last = atWaitEnd;
        while (last < atWaitEnd + 20)
        {
            Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
            last = call.ResponseStream.Current.N;
        }

        Assert.DoesNotContain(host.Logs.Events, e => e.EventId == 402);
        await cancel.CancelAsync();
    }

    [Fact]
    public async Task Streams_are_left_alone_when_EndStreamsWhenTrafficWaitEnds_is_off()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync(
            s => s.Configure<GrpcShutdownOptions>(o => o.EndStreamsWhenTrafficWaitEnds = false));
        var client = new DrainTest.DrainTestClient(host.Channel);
        using var cancel = new CancellationTokenSource();
        using AsyncServerStreamingCall<Item> call = client.Drained(new Empty(), cancellationToken: cancel.Token);
        Assert.True(await call.ResponseStream.MoveNext());

        await host.Lifecycle.DrainAsync().WaitAsync(Timeout);

        int atWaitEnd = call.ResponseStream.Current.N;
        while (call.ResponseStream.Current.N < atWaitEnd + 20)
        {
            Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
        }

        await cancel.CancelAsync();
    }

    [Fact]
    public async Task A_stream_started_after_the_traffic_wait_ends_with_UNAVAILABLE_at_once_while_unary_calls_still_succeed()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync();
        var client = new DrainTest.DrainTestClient(host.Channel);
        await host.Lifecycle.DrainAsync().WaitAsync(Timeout);

        Assert.Equal(42, (await client.UnaryAsync(new Empty())).N);
        using AsyncServerStreamingCall<Item> call = client.Drained(new Empty());
        RpcException ended = await Assert.ThrowsAsync<RpcException>(() => ReadToEndAsync(call.ResponseStream));
        Assert.Equal(StatusCode.Unavailable, ended.StatusCode);
    }

    [Fact]
    public async Task A_stream_that_completes_before_the_drain_ends_with_OK()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync();
        var client = new DrainTest.DrainTestClient(host.Channel);
        using AsyncDuplexStreamingCall<Item, Item> call = client.Echo();
        await call.RequestStream.WriteAsync(new Item { N = 1 });
        await call.RequestStream.CompleteAsync();

        await ReadToEndAsync(call.ResponseStream);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    private static async Task ReadToEndAsync<T>(IAsyncStreamReader<T> stream)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (await stream.MoveNext(timeout.Token))
        {
        }
    }
}

using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using GracefulShutdown.Grpc.Diagnostics;

namespace GracefulShutdown.Grpc.Streams;

/// <summary>
/// Ends server-streaming and duplex calls with UNAVAILABLE when the traffic wait is over, so that their clients retry on
/// another replica while this one can still answer, instead of being aborted at the drain timeout. Unary and client-streaming
/// calls pass through untouched.
/// </summary>
internal sealed class StreamDrainInterceptor : Interceptor
{
    internal const string UnavailableMessage = "The server is shutting down; retry the call on another replica.";

    private readonly IGracefulShutdown _lifecycle;
    private readonly ILogger _logger;
    private readonly bool _enabled;

    public StreamDrainInterceptor(IGracefulShutdown lifecycle, IOptions<GrpcShutdownOptions> options, ILogger<StreamDrainInterceptor> logger)
    {
        _lifecycle = lifecycle;
        _logger = logger;
        _enabled = options.Value.EndStreamsWhenTrafficWaitEnds;
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (!Applies(context))
        {
            return continuation(request, responseStream, context);
        }

        return RunAsync(context, responseStream, (ctx, writer) => continuation(request, writer, ctx));
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (!Applies(context))
        {
            return continuation(requestStream, responseStream, context);
        }

        return RunAsync(context, responseStream, (ctx, writer) => continuation(requestStream, writer, ctx));
    }

    private bool Applies(ServerCallContext context) =>
        _enabled && context.GetHttpContext().GetEndpoint()?.Metadata.GetMetadata<DisableStreamDrainAttribute>() is null;

    private async Task RunAsync<TResponse>(ServerCallContext context, IServerStreamWriter<TResponse> responseStream,
        Func<ServerCallContext, IServerStreamWriter<TResponse>, Task> handler)
    {
        CancellationToken trafficWaitEnded = _lifecycle.TrafficWaitEnded;
        using var call = new DrainingServerCallContext(context, trafficWaitEnded);
        var writer = new DrainingStreamWriter<TResponse>(responseStream, call.CancellationToken);
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = trafficWaitEnded.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), ended);

        Task running = handler(call, writer);
        if (await Task.WhenAny(running, ended.Task).ConfigureAwait(false) == running)
        {
            // Ended before the traffic wait was over, or on its own token when it was (many handlers return normally when
            // their token is canceled, and Health.Watch does): only the latter becomes UNAVAILABLE.
            if (!trafficWaitEnded.IsCancellationRequested || context.CancellationToken.IsCancellationRequested)
            {
                await running.ConfigureAwait(false);
                return;
            }

            try
            {
                await running.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // The handler observed the canceled token (or its write was refused): that is the end we asked for.
            }
        }
        else
        {
            // The handler has not ended yet: refuse its further writes (waiting for one in progress) and end the call now.
            await writer.CloseAsync(_lifecycle.DrainDeadline).ConfigureAwait(false);
            _ = running.ContinueWith(static (task, state) =>
            {
                var (logger, method) = ((ILogger, string))state!;
                if (task.Exception?.InnerException is { } error and not OperationCanceledException)
                {
                    logger.HandlerFaultedAfterEnd(method, error.Message);
                }
            }, (_logger, context.Method), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        _logger.StreamEnded(context.Method);
        throw new RpcException(new Status(StatusCode.Unavailable, UnavailableMessage));
    }
}

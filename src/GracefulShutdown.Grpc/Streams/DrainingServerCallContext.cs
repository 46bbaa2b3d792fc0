using Grpc.Core;

namespace GracefulShutdown.Grpc.Streams;

/// <summary>
/// The call's context as the handler sees it: the same call, with a <see cref="ServerCallContext.CancellationToken"/> that is also
/// canceled when the traffic wait is over.
/// </summary>
internal sealed class DrainingServerCallContext : ServerCallContext, IDisposable
{
    // Grpc.AspNetCore's GetHttpContext() looks here when the context is not its own.
    private const string HttpContextKey = "__HttpContext";

    private readonly ServerCallContext _inner;
    private readonly CancellationTokenSource _canceled;

    public DrainingServerCallContext(ServerCallContext inner, CancellationToken trafficWaitEnded)
    {
        _inner = inner;
        _canceled = CancellationTokenSource.CreateLinkedTokenSource(inner.CancellationToken, trafficWaitEnded);
        inner.UserState[HttpContextKey] = inner.GetHttpContext();
    }

    protected override string MethodCore => _inner.Method;

    protected override string HostCore => _inner.Host;

    protected override string PeerCore => _inner.Peer;

    protected override DateTime DeadlineCore => _inner.Deadline;

    protected override Metadata RequestHeadersCore => _inner.RequestHeaders;

    protected override CancellationToken CancellationTokenCore => _canceled.Token;

    protected override Metadata ResponseTrailersCore => _inner.ResponseTrailers;

    protected override Status StatusCore
    {
        get => _inner.Status;
        set => _inner.Status = value;
    }

    protected override WriteOptions? WriteOptionsCore
    {
        get => _inner.WriteOptions;
        set => _inner.WriteOptions = value;
    }

    protected override AuthContext AuthContextCore => _inner.AuthContext;

    protected override IDictionary<object, object> UserStateCore => _inner.UserState;

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        _inner.CreatePropagationToken(options);

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => _inner.WriteResponseHeadersAsync(responseHeaders);

    public void Dispose() => _canceled.Dispose();
}

namespace GracefulShutdown.Testing.Harness;

/// <summary>Keep-alive HTTP requests at a fixed rate (open loop: a slow answer does not slow the load), each one counted once.</summary>
internal sealed class HttpLoad : IDisposable
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(5);
    private readonly RolloutOptions _options;
    private readonly HttpClient _client;
    private readonly FailureCounter _failures;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sent;
    private long _succeeded;
    private long _failed;
    private int _inFlight = 1; // the load's own count: released when it stops sending

    public HttpLoad(RolloutOptions options, Uri balancer, FailureCounter failures)
    {
        _options = options;
        _failures = failures;
        _client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        }, disposeHandler: true)
        {
            BaseAddress = balancer,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public long Sent => Interlocked.Read(ref _sent);

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Sends until <paramref name="stop"/> fires, then waits for the requests in flight (each bounded by its timeout).</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        TimeProvider time = _options.TimeProvider;
        long started = time.GetTimestamp();
        long issued = 0;
        using (var timer = new PeriodicTimer(s_tick, time))
        {
            try
            {
                do
                {
                    long due = (long)(time.GetElapsedTime(started).TotalSeconds * _options.RequestsPerSecond) + 1;
                    for (; issued < due && !stop.IsCancellationRequested; issued++)
                    {
                        Issue();
                    }
                }
                while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }

        Release();
        await _drained.Task.ConfigureAwait(false);
    }

    public void Dispose() => _client.Dispose();

    private void Issue()
    {
        Interlocked.Increment(ref _sent);
        if (Interlocked.Increment(ref _inFlight) > _options.MaxRequestsInFlight + 1)
        {
            Fail("client: too many in flight (RolloutOptions.MaxRequestsInFlight)");
            Release();
            return;
        }

        _ = SendAsync();
    }

    private async Task SendAsync()
    {
        try
        {
            using HttpRequestMessage request = _options.CreateRequest?.Invoke()
                ?? new HttpRequestMessage(HttpMethod.Get, new Uri(_options.Path, UriKind.Relative));
            using var timeout = new CancellationTokenSource(_options.RequestTimeout, _options.TimeProvider);
            try
            {
                using HttpResponseMessage response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token)
                    .ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status < 400)
                {
                    Interlocked.Increment(ref _succeeded);
                }
                else
                {
                    string? balancer = response.Headers.TryGetValues(Balancer.ErrorHeader, out IEnumerable<string>? values) ? values.FirstOrDefault() : null;
                    Fail(balancer is null ? $"HTTP {status}" : $"HTTP {status} (balancer: {balancer})");
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                Fail("timeout (RolloutOptions.RequestTimeout)");
            }
            catch (HttpRequestException ex)
            {
                Fail($"transport: {Describe(ex)}");
            }
        }
#pragma warning disable CA1031 // Whatever the user's request factory or the stack throws is a failure of that request, counted by kind.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Fail($"client: {ex.GetType().Name}");
        }
        finally
        {
            Release();
        }
    }

    /// <summary>The request error, and for an unclassified one the innermost cause (a reset: <c>Unknown (ConnectionReset)</c>).</summary>
    internal static string Describe(HttpRequestException exception)
    {
        if (exception.HttpRequestError != HttpRequestError.Unknown)
        {
            return exception.HttpRequestError.ToString();
        }

        Exception inner = exception;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner switch
        {
            System.Net.Sockets.SocketException socket => $"Unknown ({socket.SocketErrorCode})",
            HttpRequestException => "Unknown",
            _ => $"Unknown ({inner.GetType().Name})",
        };
    }

    private void Fail(string kind)
    {
        Interlocked.Increment(ref _failed);
        _failures.Add(kind);
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }
    }
}

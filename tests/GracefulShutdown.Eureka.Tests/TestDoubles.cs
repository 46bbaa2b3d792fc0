using System.Net;
using System.Threading.Channels;
using GracefulShutdown.Eureka.Client;
using GracefulShutdown.Eureka.Configuration;
using GracefulShutdown.Eureka.Diagnostics;
using GracefulShutdown.Eureka.Registration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GracefulShutdown.Eureka.Tests;

internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, string? Body, string? Accept, string? ContentType, string? Authorization, long? ContentLength = null)
{
    public string Server => Uri.Host;

    public string Path => Uri.UnescapeDataString(Uri.AbsolutePath);

    public string Query => Uri.UnescapeDataString(Uri.Query);

    public override string ToString() => $"{Method} {Server}{Path}{Query}";
}

/// <summary>A Eureka server stand-in at the HttpMessageHandler level: records every request and answers with <see cref="Respond"/>.</summary>
internal sealed class FakeEurekaHandler : HttpMessageHandler
{
    private readonly Channel<RecordedRequest> _arrivals = Channel.CreateUnbounded<RecordedRequest>();
    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];

    /// <summary>Answers a request; by default 204 for POST, 200 for PUT and DELETE, 404 for GET.</summary>
    public Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> Respond { get; set; } = static (request, _) =>
        Task.FromResult(Default(request));

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToArray();
            }
        }
    }

    public static HttpResponseMessage Default(RecordedRequest request) => new(request.Method.Method switch
    {
        "POST" => HttpStatusCode.NoContent,
        "GET" => HttpStatusCode.NotFound,
        _ => HttpStatusCode.OK,
    });

    public static HttpResponseMessage Status(HttpStatusCode code, string? body = null) =>
        new(code) { Content = body is null ? null : new StringContent(body) };

    /// <summary>Waits for the next request (a safety bound only; tests never wait on real time otherwise).</summary>
    public async Task<RecordedRequest> NextAsync() =>
        await _arrivals.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string? body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedRequest(request.Method, request.RequestUri!, body, request.Headers.Accept.ToString(),
            request.Content?.Headers.ContentType?.MediaType, request.Headers.Authorization?.ToString(), request.Content?.Headers.ContentLength);
        lock (_gate)
        {
            _requests.Add(recorded);
        }

        _arrivals.Writer.TryWrite(recorded);
        HttpResponseMessage response = await Respond(recorded, cancellationToken);
        response.Content ??= new ByteArrayContent([]);
        return response;
    }

    /// <summary>Never answers; only the caller's token ends it.</summary>
    public static async Task<HttpResponseMessage> Hang(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }
}

internal sealed class FakeHttpClientFactory(HttpMessageHandler handler) : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => new(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
}

internal sealed class FakeGracefulShutdown : IGracefulShutdown, IDisposable
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _drain = new();
    private readonly CancellationTokenSource _waitEnded = new();

    public GracefulShutdownPhase Phase { get; private set; }

    public Task WhenReady => _ready.Task;

    public CancellationToken DrainStarted => _drain.Token;

    public CancellationToken TrafficWaitEnded => _waitEnded.Token;

    public CancellationToken DrainDeadline => CancellationToken.None;

    public ShutdownBudget Budget { get; set; } = ShutdownBudget.From(new GracefulShutdownOptions());

    public void MarkReady()
    {
        Phase = GracefulShutdownPhase.Running;
        _ready.TrySetResult();
    }

    public void BeginDrain()
    {
        Phase = GracefulShutdownPhase.Draining;
        _ready.TrySetCanceled();
        _drain.Cancel();
    }

    public void EndTrafficWait() => _waitEnded.Cancel();

    public Task DrainAsync(CancellationToken cancellationToken = default)
    {
        BeginDrain();
        return Task.CompletedTask;
    }

    public IDisposable BeginWork(string name) => throw new NotSupportedException("The Eureka add-on begins no work.");

    public void RequestStop() => throw new NotSupportedException("The Eureka add-on stops nothing.");

    public void Dispose()
    {
        _drain.Dispose();
        _waitEnded.Dispose();
    }
}

/// <summary>The core's routes as the add-on sees them: what it added and reported, and a task per report.</summary>
internal sealed class RecordingRoutes : IGracefulShutdownRoutes
{
    private readonly Lock _gate = new();
    private readonly List<string> _added = [];
    private readonly List<(string Route, DateTimeOffset LetGoBy)> _reports = [];
    private readonly TaskCompletionSource<(string Route, DateTimeOffset LetGoBy)> _reported = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<string> Added
    {
        get
        {
            lock (_gate)
            {
                return [.. _added];
            }
        }
    }

    public IReadOnlyList<(string Route, DateTimeOffset LetGoBy)> Reports
    {
        get
        {
            lock (_gate)
            {
                return [.. _reports];
            }
        }
    }

    /// <summary>Gets the first report.</summary>
    public Task<(string Route, DateTimeOffset LetGoBy)> Reported => _reported.Task;

    public void Add(string route)
    {
        lock (_gate)
        {
            _added.Add(route);
        }
    }

    public void LetGoBy(string route, DateTimeOffset letGoBy)
    {
        lock (_gate)
        {
            _reports.Add((route, letGoBy));
        }

        _reported.TrySetResult((route, letGoBy));
    }
}

/// <summary>The core's report as the add-on sees it.</summary>
internal sealed class RecordingReport : IGracefulShutdownReport
{
    private readonly Lock _gate = new();
    private readonly List<(string Source, string Step)> _steps = [];

    public IReadOnlyList<(string Source, string Step)> Steps
    {
        get
        {
            lock (_gate)
            {
                return [.. _steps];
            }
        }
    }

    public void Add(string source, string step)
    {
        lock (_gate)
        {
            _steps.Add((source, step));
        }
    }
}

/// <summary>
/// Fake time that reports each wait the code under test arms, so that a test advances the clock only once the loop waits.
/// Timeouts are not waits: <see cref="CancellationTokenSource"/>(delay, timeProvider) passes itself as the timer's state.
/// </summary>
internal sealed class WaitReportingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Channel<TimeSpan> _waits = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        if (state is not CancellationTokenSource)
        {
            _waits.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>Waits until the next wait is armed (a safety bound only), and returns how long it is.</summary>
    public async Task<TimeSpan> NextWaitAsync() => await _waits.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
}

/// <summary>A <see cref="FakeLogger{T}"/> that also reports each event id once the record is collected.</summary>
internal sealed class ReportingLogger<T>(FakeLogCollector collector, ChannelWriter<int> logged) : ILogger<T>
{
    private readonly FakeLogger<T> _inner = new(collector);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => _inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _inner.Log(logLevel, eventId, state, exception, formatter);
        logged.TryWrite(eventId.Id);
    }
}

/// <summary>Everything a registration test needs, wired by hand: fake time, fake server, fake lifecycle, fake logs.</summary>
internal sealed class EurekaHarness : IDisposable
{
    public const string ServerA = "http://eureka-a:8761/eureka/";
    public const string ServerB = "http://eureka-b:8761/eureka/";

    private readonly ServiceProvider _metricsProvider;
    private readonly Channel<int> _logged = Channel.CreateUnbounded<int>();
    private readonly ReportingLogger<EurekaRegistrationService> _logger;
    private EurekaReconciler? _reconciler;

    public EurekaHarness(Action<EurekaClientOptions>? client = null, Action<EurekaInstanceOptions>? instance = null,
        Action<GracefulShutdownOptions>? shutdown = null)
    {
        ClientOptions = new EurekaClientOptions { ServiceUrl = ServerA + "," + ServerB };
        client?.Invoke(ClientOptions);
        InstanceOptions = new EurekaInstanceOptions { AppName = "orders", HostName = "pod-1", IpAddress = "10.0.0.7", Port = 8080 };
        instance?.Invoke(InstanceOptions);
        ShutdownOptions = new GracefulShutdownOptions();
        shutdown?.Invoke(ShutdownOptions);
        Shutdown.Budget = ShutdownBudget.From(ShutdownOptions);

        _metricsProvider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        MeterFactory = _metricsProvider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        Metrics = new EurekaMetrics(MeterFactory, State);
        _logger = new ReportingLogger<EurekaRegistrationService>(Logs, _logged.Writer);
        Client = new EurekaHttpClient(new FakeHttpClientFactory(Handler), Options.Create(ClientOptions), Time,
            new FakeLogger<EurekaHttpClient>(Logs), Metrics);
        Service = new EurekaRegistrationService(Client, Shutdown, State, Options.Create(ClientOptions), Options.Create(InstanceOptions),
            Options.Create(ShutdownOptions), Mock.Of<IHostEnvironment>(e => e.ApplicationName == "Orders.Api"),
            new ServiceCollection().BuildServiceProvider(), Time, _logger, Metrics);
    }

    public WaitReportingTimeProvider Time { get; } = new(new DateTimeOffset(2025, 11, 26, 12, 0, 0, TimeSpan.Zero));

    public FakeEurekaHandler Handler { get; } = new();

    public FakeGracefulShutdown Shutdown { get; } = new();

    public FakeLogCollector Logs { get; } = new();

    public EurekaRegistrationState State { get; } = new();

    public EurekaClientOptions ClientOptions { get; }

    public EurekaInstanceOptions InstanceOptions { get; }

    public GracefulShutdownOptions ShutdownOptions { get; }

    public System.Diagnostics.Metrics.IMeterFactory MeterFactory { get; }

    public EurekaMetrics Metrics { get; }

    public EurekaHttpClient Client { get; }

    /// <summary>The hosted service as the host runs it (its loop in the background).</summary>
    public EurekaRegistrationService Service { get; }

    /// <summary>A reconciler for the identity the options give, driven step by step by the test instead of the loop.</summary>
    public EurekaReconciler Initialized() =>
        _reconciler = new EurekaReconciler(Client, Shutdown, State, EurekaInstanceResolver.Resolve(InstanceOptions, "Orders.Api", "/health/ready", []),
            ClientOptions, Time, _logger);

    public Task<TimeSpan> StepAsync() =>
        (_reconciler ?? throw new InvalidOperationException("Call Initialized() first.")).StepAsync(CancellationToken.None);

    /// <summary>Waits until the background loop has armed its timer, and returns how long it waits.</summary>
    public Task<TimeSpan> LoopWaitingAsync() => Time.NextWaitAsync();

    /// <summary>Waits until an event with this id has been logged (a safety bound only).</summary>
    public async Task WaitForLogAsync(int id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (LogsWithId(id).Count == 0)
        {
            await _logged.Reader.ReadAsync(timeout.Token);
        }
    }

    public IReadOnlyList<FakeLogRecord> LogsWithId(int id) => Logs.GetSnapshot().Where(r => r.Id.Id == id).ToArray();

    public void Dispose()
    {
        Service.Dispose();
        Shutdown.Dispose();
        _metricsProvider.Dispose();
    }
}

internal static class FakeLogRecordAssert
{
    public static void Contains(IReadOnlyList<FakeLogRecord> records, string text) =>
        Assert.Contains(records, r => r.Message.Contains(text, StringComparison.Ordinal));
}

using System.Diagnostics.Metrics;
using GracefulShutdown.Kubernetes.Api;
using GracefulShutdown.Kubernetes.Diagnostics;
using GracefulShutdown.Kubernetes.Watching;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GracefulShutdown.Kubernetes.Tests;

/// <summary>
/// List then watch, as informers do: the watch resumes from the last resource version (events and bookmarks), 410 Gone lists
/// again, faults withdraw the facts, warn once per kind and back off on the <see cref="TimeProvider"/>; every call is bounded.
/// </summary>
public sealed class ResourceWatchTests : IAsyncDisposable
{
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(10);
    private readonly WaitReportingTimeProvider _time = new();
    private readonly FakeKubernetesApi _api = new();
    private readonly RecordingConsumer<V1Pod> _consumer = new();
    private readonly FakeLogCollector _logs = new();
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CancellationTokenSource _stop = new();
    private readonly KubernetesOptions _options = new();
    private Task? _running;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            await _running.WaitAsync(Safety);
        }

        _stop.Dispose();
        await _metrics.DisposeAsync();
    }

    private void Start()
    {
        var watch = new ResourceWatch<V1Pod>("pods",
            ct => _api.ListPodAsync("shop", "web-1", ct),
            (rv, timeout, ct) => _api.WatchPodAsync("shop", "web-1", rv, timeout, ct),
            _consumer, _options, _time, new ApiFaults(new FakeLogger<ApiFaults>(_logs)),
            new KubernetesMetrics(_metrics.GetRequiredService<IMeterFactory>()), new FakeLogger(_logs));
        _running = Task.Run(() => watch.RunAsync(_stop.Token));
    }

    private IReadOnlyList<FakeLogRecord> Logged(int id) => [.. _logs.GetSnapshot().Where(r => r.Id.Id == id)];

    [Fact]
    public async Task ListsThenWatchesFromTheListsVersion_BookmarksMoveTheVersionOnly_AnEndedWatchResumesFromIt()
    {
        _api.PodList("10", Objects.Pod());
        var first = _api.PodWatch();
        _api.PodWatch();
        Start();

        await _api.WhenCalled("watch pods").WaitAsync(Safety);
        await first.Writer.WriteAsync(Objects.Event(WatchEventType.Modified, Objects.Pod(resourceVersion: "12")));
        await first.Writer.WriteAsync(Objects.Event(WatchEventType.Bookmark, Objects.Bookmark("15")));
        first.Writer.Complete(); // the server's timeoutSeconds

        await _api.WhenCalled("watch pods", 2).WaitAsync(Safety);
        Assert.Equal(["list pods shop/web-1", "watch pods shop/web-1 rv=10 timeout=300", "watch pods shop/web-1 rv=15 timeout=300"], _api.Calls);
        Assert.Equal(["replace 1", "apply Modified"], _consumer.Seen);
        Assert.Empty(Logged(502));
    }

    [Fact]
    public async Task WatchExpired410_ListsAgainAtOnce_NoWarning_FactsKept()
    {
        _api.PodList("10", Objects.Pod());
        var watch = _api.PodWatch();
        _api.PodList("40", Objects.Pod());
        _api.PodWatch();
        Start();

        await _api.WhenCalled("watch pods").WaitAsync(Safety);
        watch.Writer.Complete(new KubernetesApiException(410, "too old resource version: 10 (35)"));

        await _api.WhenCalled("watch pods", 2).WaitAsync(Safety);
        Assert.Equal(["list pods shop/web-1", "watch pods shop/web-1 rv=10 timeout=300", "list pods shop/web-1", "watch pods shop/web-1 rv=40 timeout=300"],
            _api.Calls);
        Assert.Equal(["replace 1", "replace 1"], _consumer.Seen);
        Assert.Empty(Logged(502));
        Assert.Single(Logged(505));
        Assert.False(_time.TryTakeWait(out _)); // no back-off
    }

    [Fact]
    public async Task Unreachable_WithdrawsTheFacts_WarnsOnce_RetriesWithADoublingDelay_ThenRecovers()
    {
        for (int i = 0; i < 3; i++)
        {
            _api.PodListFails(new HttpRequestException("Connection refused (10.96.0.1:443)"));
        }

        _api.PodList("10", Objects.Pod());
        _api.PodWatch();
        Start();

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync());
        Assert.Single(_api.Calls); // waiting: not calling in a loop
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(2), await _time.NextWaitAsync());
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(4), await _time.NextWaitAsync());
        _time.Advance(TimeSpan.FromSeconds(4));

        await _api.WhenCalled("watch pods").WaitAsync(Safety);
        Assert.Equal(["lost", "lost", "lost", "replace 1"], _consumer.Seen);
        FakeLogRecord warning = Assert.Single(Logged(502));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("unreachable", warning.Message, StringComparison.Ordinal);
        Assert.Equal(2, Logged(503).Count);
        Assert.Single(Logged(504));
    }

    [Fact]
    public async Task TheDelayStopsDoublingAtItsMaximum()
    {
        _options.RetryDelayMaximum = TimeSpan.FromSeconds(3);
        for (int i = 0; i < 3; i++)
        {
            _api.PodListFails(new HttpRequestException("unreachable"));
        }

        Start();

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(2), await _time.NextWaitAsync());
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(3), await _time.NextWaitAsync());
    }

    [Theory]
    [InlineData(401, "unauthorized", "401")]
    [InlineData(403, "forbidden", "samples/k8s/rbac.yaml")]
    [InlineData(0, "malformed", "does not parse")]
    [InlineData(500, "failed", "etcdserver")]
    public async Task ApiRefuses_OneWarningNamingTheFault(int status, string fault, string hint)
    {
        _api.PodListFails(new KubernetesApiException(status, status == 0 ? "the API's answer does not parse: '<' is an invalid start of a value" : "etcdserver: leader changed"));
        _api.PodListFails(new KubernetesApiException(status, "again"));
        Start();

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(2), await _time.NextWaitAsync());

        FakeLogRecord warning = Assert.Single(Logged(502));
        Assert.Contains($"({fault})", warning.Message, StringComparison.Ordinal);
        Assert.Contains(hint, warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoKindsOfFault_OneWarningEach()
    {
        _api.PodListFails(new KubernetesApiException(401, "Unauthorized"));
        _api.PodListFails(new KubernetesApiException(403, "Forbidden"));
        _api.PodListFails(new KubernetesApiException(401, "Unauthorized"));
        Start();

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(2), await _time.NextWaitAsync());
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(4), await _time.NextWaitAsync());

        Assert.Equal(2, Logged(502).Count);
        Assert.Single(Logged(503));
    }

    [Fact]
    public async Task ApiDoesNotAnswer_TheListIsGivenUpAtRequestTimeout()
    {
        Start(); // nothing scripted: the list hangs

        await _api.WhenCalled("list pods").WaitAsync(Safety);
        _time.Advance(_options.RequestTimeout);

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync());
        Assert.Contains("(timed_out)", Assert.Single(Logged(502)).Message, StringComparison.Ordinal);
        Assert.Equal(["lost"], _consumer.Seen);
    }

    [Fact]
    public async Task SilentWatch_GivenUpAfterWatchTimeoutPlusRequestTimeout_ThenListsAgain()
    {
        _options.WatchTimeout = TimeSpan.FromSeconds(60);
        _api.PodList("10", Objects.Pod());
        _api.PodWatch(); // opens, then nothing: not even the server's own end at timeoutSeconds
        Start();

        await _api.WhenCalled("watch pods").WaitAsync(Safety);
        CancellationToken watch = _api.Tokens[1];

        // The bound cancels the call's token inside Advance (FakeTimeProvider runs timer callbacks, and so token callbacks, there).
        TimeSpan bound = _options.WatchTimeout + _options.RequestTimeout;
        Assert.Equal(TimeSpan.FromSeconds(70), bound);
        _time.Advance(bound - TimeSpan.FromMilliseconds(1));
        Assert.False(watch.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(watch.IsCancellationRequested);

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync());
        Assert.Contains("(timed_out)", Assert.Single(Logged(502)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchEndsAtOnceEmpty_WaitsTheRetryDelayBeforeOpeningAgain()
    {
        _api.PodList("10", Objects.Pod());
        _api.PodWatch().Writer.Complete();
        _api.PodWatch();
        Start();

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync());
        Assert.Equal(2, _api.Calls.Count);
        _time.Advance(TimeSpan.FromSeconds(1));

        await _api.WhenCalled("watch pods", 2).WaitAsync(Safety);
        Assert.Equal("watch pods shop/web-1 rv=10 timeout=300", _api.Calls[^1]);
    }

    [Fact]
    public async Task WatchConnectionBreaks_OpenedAgainFromTheLastVersion_NoWarning_NoRelist()
    {
        _api.PodList("10", Objects.Pod());
        var first = _api.PodWatch();
        _api.PodWatch();
        Start();

        await _api.WhenCalled("watch pods").WaitAsync(Safety);
        await first.Writer.WriteAsync(Objects.Event(WatchEventType.Modified, Objects.Pod(resourceVersion: "12")));
        first.Writer.Complete(new IOException("Error while copying content to a stream."));

        await _api.WhenCalled("watch pods", 2).WaitAsync(Safety);
        Assert.Equal("watch pods shop/web-1 rv=12 timeout=300", _api.Calls[^1]);
        Assert.Empty(Logged(502));
        Assert.DoesNotContain("lost", _consumer.Seen);
    }

    [Fact]
    public async Task WatchBreaksTwiceWithNothingBetween_AFault()
    {
        _api.PodList("10", Objects.Pod());
        _api.PodWatchFails(new HttpRequestException("Connection refused"));
        _api.PodWatchFails(new HttpRequestException("Connection refused"));
        Start();

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync()); // the first break: reopened after RetryDelay
        Assert.Empty(Logged(502));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromSeconds(1), await _time.NextWaitAsync()); // the second: a fault, back-off from RetryDelay
        Assert.Contains("(unreachable)", Assert.Single(Logged(502)).Message, StringComparison.Ordinal);
        Assert.Equal(["replace 1", "lost"], _consumer.Seen);
    }

    [Fact]
    public async Task Stop_EndsTheLoopWhileACallHangs()
    {
        Start();
        await _api.WhenCalled("list pods").WaitAsync(Safety);

        await _stop.CancelAsync();

        await _running!.WaitAsync(Safety);
        Assert.Empty(Logged(502));
    }
}

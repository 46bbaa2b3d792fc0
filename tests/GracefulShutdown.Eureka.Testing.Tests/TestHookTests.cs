using System.Net;
using System.Net.Sockets;

namespace GracefulShutdown.Eureka.Testing.Tests;

/// <summary>The call log, waiting, registry inspection and fault injection.</summary>
public sealed class TestHookTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Calls_RecordRequestAndResponseDetails()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("myapp", EurekaHttp.Instance("MYAPP", "h:1"))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "v2/apps/MYAPP/h:1?status=UP&lastDirtyTimestamp=1000"));

        IReadOnlyList<EurekaCall> calls = eureka.Calls;

        Assert.Equal(2, calls.Count);
        EurekaCall register = calls[0];
        Assert.Equal(EurekaOperation.Register, register.Operation);
        Assert.Equal("POST", register.Method);
        Assert.Equal("/eureka/apps/myapp", register.Path);
        Assert.Equal("MYAPP", register.AppName);
        Assert.Equal(204, register.StatusCode);
        Assert.Contains("\"instanceId\":\"h:1\"", register.RequestBody, StringComparison.Ordinal);
        Assert.StartsWith("application/json", register.ContentType, StringComparison.Ordinal);
        EurekaCall heartbeat = calls[1];
        Assert.Equal(EurekaOperation.Heartbeat, heartbeat.Operation);
        Assert.Equal("/eureka/v2/apps/MYAPP/h:1", heartbeat.Path);
        Assert.Equal("?status=UP&lastDirtyTimestamp=1000", heartbeat.Query);
        Assert.Equal("h:1", heartbeat.InstanceId);
        Assert.Null(heartbeat.RequestBody);
        Assert.True(heartbeat.Sequence > register.Sequence);
        Assert.True(heartbeat.Timestamp >= register.Timestamp);
        Assert.False(heartbeat.Faulted);
    }

    [Fact]
    public async Task WaitForCallAsync_AlreadyRecorded_ReturnsImmediately()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Delete, "apps/A/x"));

        EurekaCall call = await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Cancel, s_wait);

        Assert.Equal(404, call.StatusCode);
    }

    [Fact]
    public async Task WaitForCallAsync_FutureCall_CompletesWhenItArrives()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        Task<EurekaCall> waiting = eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Heartbeat && c.StatusCode == 404, s_wait);
        Assert.False(waiting.IsCompleted);

        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/x"));

        Assert.Equal("x", (await waiting).InstanceId);
    }

    [Fact]
    public async Task WaitForCallAsync_NoMatch_ThrowsTimeoutListingCalls()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/x"));

        TimeoutException ex = await Assert.ThrowsAsync<TimeoutException>(
            () => eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Register, TimeSpan.FromMilliseconds(50)));

        Assert.Contains("PUT /eureka/apps/A/x -> 404", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForCallAsync_Cancelled_ThrowsAndLaterCallsStillWork()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        using var cts = new CancellationTokenSource();
        Task<EurekaCall> waiting = eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Register, s_wait, cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/x"));
        Assert.Equal(404, (await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Heartbeat, s_wait)).StatusCode);
    }

    [Fact]
    public async Task DisposeAsync_PendingWait_FailsWithObjectDisposed()
    {
        var eureka = await EurekaServerStandIn.StartAsync();
        Task<EurekaCall> waiting = eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Register, s_wait);

        await eureka.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(s_wait));
        Assert.False(eureka.IsListening);
    }

    [Fact]
    public async Task Calls_ConcurrentHeartbeats_AllRecordedAndRenewed()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();

        int[] codes = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => http.StatusAsync(HttpMethod.Put, "apps/A/a-1")));

        Assert.All(codes, c => Assert.Equal(200, c));
        Assert.Equal(40, eureka.Calls.Count(c => c.Operation == EurekaOperation.Heartbeat));
        Assert.Equal(40, eureka.GetInstance("A", "a-1")!.RenewalCount);
        Assert.Equal(41, eureka.Calls.Select(c => c.Sequence).Distinct().Count());
    }

    [Fact]
    public async Task FailNext_AnswersWithStatusWithoutTouchingRegistry()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        eureka.FailNext(EurekaOperation.Heartbeat, 503, times: 2);

        int first = await http.StatusAsync(HttpMethod.Put, "apps/A/a-1");
        int second = await http.StatusAsync(HttpMethod.Put, "apps/A/a-1");
        int third = await http.StatusAsync(HttpMethod.Put, "apps/A/a-1");

        Assert.Equal([503, 503, 200], [first, second, third]);
        Assert.Equal(1, eureka.GetInstance("A", "a-1")!.RenewalCount);
        Assert.Equal([true, true, false], eureka.Calls.Where(c => c.Operation == EurekaOperation.Heartbeat).Select(c => c.Faulted));
    }

    [Fact]
    public async Task FailNext_Register500_InstanceNotRegistered()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        eureka.FailNext(EurekaOperation.Register, 500);

        using HttpResponseMessage response = await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Null(eureka.GetInstance("A", "a-1"));
    }

    [Fact]
    public async Task HangNext_HoldsUntilReleasedThenProceeds()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        using EurekaHang hang = eureka.HangNext(EurekaOperation.Register);

        Task<HttpResponseMessage> registering = http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"));
        await hang.WhenHeld.WaitAsync(s_wait);

        Assert.False(registering.IsCompleted);
        Assert.Null(eureka.GetInstance("A", "a-1"));
        Assert.Equal(1, hang.HeldCount);
        hang.Release();
        using HttpResponseMessage response = await registering.WaitAsync(s_wait);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.NotNull(eureka.GetInstance("A", "a-1"));
        // Only the next request was held.
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1"));
    }

    [Fact]
    public async Task HangNext_ClientTimesOut_CallRecordedWithStatus0()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        using EurekaHang hang = eureka.HangNext(EurekaOperation.Cancel);
        using var clientTimeout = new CancellationTokenSource();

        Task<HttpResponseMessage> cancelling = http.Client.DeleteAsync("apps/A/a-1", clientTimeout.Token);
        await hang.WhenHeld.WaitAsync(s_wait);
        await clientTimeout.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelling);
        EurekaCall call = await eureka.WaitForCallAsync(c => c.Operation == EurekaOperation.Cancel, s_wait);
        Assert.Equal(0, call.StatusCode);
        Assert.True(call.Faulted);
    }

    [Fact]
    public async Task HangNext_DisposeAbortsHeldRequest()
    {
        var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        EurekaHang hang = eureka.HangNext(EurekaOperation.Heartbeat);
        Task<int> heartbeat = http.StatusAsync(HttpMethod.Put, "apps/A/a-1");
        await hang.WhenHeld.WaitAsync(s_wait);

        await eureka.DisposeAsync().AsTask().WaitAsync(s_wait);

        await Assert.ThrowsAsync<HttpRequestException>(() => heartbeat.WaitAsync(s_wait));
        Assert.Equal(0, Assert.Single(eureka.Calls).StatusCode);
    }

    [Fact]
    public async Task ClearFaults_ReleasesHeldRequestsAndDropsFailures()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        EurekaHang hang = eureka.HangNext(EurekaOperation.GetApplications);
        eureka.FailNext(EurekaOperation.Heartbeat, 500);
        Task<HttpResponseMessage> fetching = http.GetJsonAsync("apps");
        await hang.WhenHeld.WaitAsync(s_wait);

        eureka.ClearFaults();

        using HttpResponseMessage response = await fetching.WaitAsync(s_wait);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1"));
    }

    [Fact]
    public async Task EvictLease_NextHeartbeat404AndOverrideCleared()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1/status?value=OUT_OF_SERVICE"));

        Assert.True(eureka.EvictLease("a", "a-1"));

        Assert.False(eureka.EvictLease("A", "a-1"));
        Assert.Equal(404, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1"));
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Assert.Equal("UP", eureka.GetInstance("A", "a-1")!.Status);
        Assert.DoesNotContain(eureka.Calls, c => c.Operation == EurekaOperation.Cancel);
    }
}

[CollectionDefinition(nameof(ListenerCollection), DisableParallelization = true)]
public sealed class ListenerCollection;

/// <summary>Stops and re-binds a port, so it runs alone: no other test can grab the port in between.</summary>
[Collection(nameof(ListenerCollection))]
public sealed class ListenerTests
{
    [Fact]
    public async Task StopListening_RefusesConnections_ResumeKeepsPortAndRegistry()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        (await http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"))).Dispose();
        Uri before = eureka.BaseUri;

        await eureka.StopListeningAsync();

        Assert.False(eureka.IsListening);
        HttpRequestException refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.StatusAsync(HttpMethod.Put, "apps/A/a-1"));
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(refused.InnerException).SocketErrorCode);

        await eureka.ResumeListeningAsync();

        Assert.True(eureka.IsListening);
        Assert.Equal(before, eureka.BaseUri);
        Assert.Equal(200, await http.StatusAsync(HttpMethod.Put, "apps/A/a-1"));
    }

    [Fact]
    public async Task StopListening_AbortsHeldRequest()
    {
        await using var eureka = await EurekaServerStandIn.StartAsync();
        using var http = new EurekaHttp(eureka.BaseUri);
        using EurekaHang hang = eureka.HangNext(EurekaOperation.Register);
        Task<HttpResponseMessage> registering = http.RegisterAsync("A", EurekaHttp.Instance("A", "a-1"));
        await hang.WhenHeld.WaitAsync(TimeSpan.FromSeconds(10));

        await eureka.StopListeningAsync().WaitAsync(TimeSpan.FromSeconds(10));

        await Assert.ThrowsAsync<HttpRequestException>(() => registering.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Null(eureka.GetInstance("A", "a-1"));
    }
}

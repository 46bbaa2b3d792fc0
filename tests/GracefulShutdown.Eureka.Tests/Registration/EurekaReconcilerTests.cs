using System.Net;
using System.Text;
using System.Text.Json;
using GracefulShutdown.Eureka.Diagnostics;
using GracefulShutdown.Eureka.Registration;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace GracefulShutdown.Eureka.Tests.Registration;

/// <summary>One step at a time, on fake time: what the reconciler sends and waits for at each point of the lifecycle.</summary>
public class EurekaReconcilerTests
{
    private static JsonElement Instance(RecordedRequest request) => JsonDocument.Parse(request.Body!).RootElement.GetProperty("instance");

    private static long LastDirty(RecordedRequest request) => long.Parse(Instance(request).GetProperty("lastDirtyTimestamp").GetString()!);

    [Fact]
    public async Task Step_BeforeReady_RegistersStarting_ThenUpWhenReady()
    {
        using var h = new EurekaHarness();
        h.Initialized();

        Assert.Equal(TimeSpan.Zero, await h.StepAsync());
        Assert.Equal(TimeSpan.FromSeconds(30), await h.StepAsync());
        h.Shutdown.MarkReady();
        Assert.Equal(TimeSpan.Zero, await h.StepAsync());

        RecordedRequest[] requests = [.. h.Handler.Requests];
        Assert.Equal(["POST eureka-a/eureka/apps/ORDERS", "POST eureka-a/eureka/apps/ORDERS", "GET eureka-a/eureka/apps/ORDERS/pod-1:orders:8080"],
            requests.Select(r => r.ToString()));
        Assert.Equal("STARTING", Instance(requests[0]).GetProperty("status").GetString());
        Assert.Equal("UP", Instance(requests[1]).GetProperty("status").GetString());
        Assert.True(LastDirty(requests[1]) > LastDirty(requests[0]));
        Assert.All(requests, r => Assert.Equal("application/json", r.Accept));
        Assert.Equal("application/json", requests[0].ContentType);
        Assert.Equal(Encoding.UTF8.GetByteCount(requests[0].Body!), requests[0].ContentLength);
        Assert.Equal(EurekaRegistration.Up, h.State.Registration);
    }

    [Fact]
    public async Task Register_Payload_HasTheJavaServerShape()
    {
        using var h = new EurekaHarness(instance: o => o.MetadataMap["zone"] = "eu-1");
        h.Initialized();

        await h.StepAsync();

        JsonElement instance = Instance(h.Handler.Requests[0]);
        Assert.Equal("pod-1:orders:8080", instance.GetProperty("instanceId").GetString());
        Assert.Equal("ORDERS", instance.GetProperty("app").GetString());
        Assert.Equal("pod-1", instance.GetProperty("hostName").GetString());
        Assert.Equal("10.0.0.7", instance.GetProperty("ipAddr").GetString());
        Assert.Equal("UNKNOWN", instance.GetProperty("overriddenstatus").GetString());
        Assert.Equal(8080, instance.GetProperty("port").GetProperty("$").GetInt32());
        Assert.Equal("true", instance.GetProperty("port").GetProperty("@enabled").GetString());
        Assert.Equal("false", instance.GetProperty("securePort").GetProperty("@enabled").GetString());
        Assert.Equal("MyOwn", instance.GetProperty("dataCenterInfo").GetProperty("name").GetString());
        Assert.Equal("com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", instance.GetProperty("dataCenterInfo").GetProperty("@class").GetString());
        Assert.Equal(30, instance.GetProperty("leaseInfo").GetProperty("renewalIntervalInSecs").GetInt32());
        Assert.Equal(90, instance.GetProperty("leaseInfo").GetProperty("durationInSecs").GetInt32());
        Assert.Equal("eu-1", instance.GetProperty("metadata").GetProperty("zone").GetString());
        Assert.Equal("http://pod-1:8080/", instance.GetProperty("homePageUrl").GetString());
        Assert.Equal("http://pod-1:8080/health/ready", instance.GetProperty("healthCheckUrl").GetString());
        Assert.Equal("http://pod-1:8080/info", instance.GetProperty("statusPageUrl").GetString());
        Assert.Equal("orders", instance.GetProperty("vipAddress").GetString());
        Assert.Equal(h.Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(), instance.GetProperty("lastDirtyTimestamp").GetString());
    }

    [Fact]
    public async Task Register_EmptyMetadata_SendsTheJavaEmptyMapMarker()
    {
        using var h = new EurekaHarness();
        h.Initialized();

        await h.StepAsync();

        Assert.Equal("java.util.Collections$EmptyMap", Instance(h.Handler.Requests[0]).GetProperty("metadata").GetProperty("@class").GetString());
    }

    [Fact]
    public async Task Heartbeat_EveryRenewalInterval_WithTheRegisteredDirtyTimestamp()
    {
        using var h = new EurekaHarness(instance: o => o.LeaseRenewalIntervalInSeconds = 10);
        h.Initialized();
        h.Shutdown.MarkReady();
        await h.StepAsync();                                   // STARTING
        await h.StepAsync();                                   // UP
        long dirty = LastDirty(h.Handler.Requests.Last(r => r.Method == HttpMethod.Post));
        int before = h.Handler.Requests.Count;

        Assert.Equal(TimeSpan.FromSeconds(10), await h.StepAsync());
        h.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(TimeSpan.FromSeconds(1), await h.StepAsync());
        Assert.Equal(before, h.Handler.Requests.Count);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(10), await h.StepAsync());

        RecordedRequest heartbeat = h.Handler.Requests[^1];
        Assert.Equal(HttpMethod.Put, heartbeat.Method);
        Assert.Equal("/eureka/apps/ORDERS/pod-1:orders:8080", heartbeat.Path);
        Assert.Equal($"?status=UP&lastDirtyTimestamp={dirty}", heartbeat.Query);
    }

    [Fact]
    public async Task Heartbeat_404_ReregistersAtOnce()
    {
        using var h = new EurekaHarness();
        h.Initialized();
        h.Shutdown.MarkReady();
        await h.StepAsync();                                   // STARTING
        await h.StepAsync();                                   // UP
        h.Handler.Respond = (r, _) => Task.FromResult(r.Method == HttpMethod.Put ? FakeEurekaHandler.Status(HttpStatusCode.NotFound) : FakeEurekaHandler.Default(r));
        h.Time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(TimeSpan.Zero, await h.StepAsync());
        Assert.Equal(EurekaRegistration.NotRegistered, h.State.Registration);
        Assert.Equal(TimeSpan.Zero, await h.StepAsync());

        RecordedRequest reregister = h.Handler.Requests.Last(r => r.Method == HttpMethod.Post);
        Assert.Equal("UP", Instance(reregister).GetProperty("status").GetString());
        Assert.Equal(3, h.Handler.Requests.Count(r => r.Method == HttpMethod.Post));
        Assert.Single(h.LogsWithId(206));
        Assert.Equal(EurekaRegistration.Up, h.State.Registration);
    }

    [Fact]
    public async Task Drain_SendsOutOfServiceOverride_AndKeepsHeartbeating()
    {
        using var h = new EurekaHarness();
        h.Initialized();
        h.Shutdown.MarkReady();
        await h.StepAsync();
        long dirty = LastDirty(h.Handler.Requests[0]);

        h.Shutdown.BeginDrain();
        Assert.Equal(TimeSpan.FromSeconds(30), await h.StepAsync());

        RecordedRequest overrideCall = h.Handler.Requests[^1];
        Assert.Equal(HttpMethod.Put, overrideCall.Method);
        Assert.Equal("/eureka/apps/ORDERS/pod-1:orders:8080/status", overrideCall.Path);
        Assert.Equal($"?value=OUT_OF_SERVICE&lastDirtyTimestamp={dirty}", overrideCall.Query);
        Assert.Equal(EurekaRegistration.OutOfService, h.State.Registration);
        Assert.Single(h.LogsWithId(208));

        for (int i = 0; i < 3; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(30));
            Assert.Equal(TimeSpan.FromSeconds(30), await h.StepAsync());
            Assert.Equal($"?status=OUT_OF_SERVICE&lastDirtyTimestamp={dirty}", h.Handler.Requests[^1].Query);
            Assert.Equal("/eureka/apps/ORDERS/pod-1:orders:8080", h.Handler.Requests[^1].Path);
        }

        Assert.Single(h.Handler.Requests, r => r.Path.EndsWith("/status", StringComparison.Ordinal));
        Assert.DoesNotContain(h.Handler.Requests, r => r.Method == HttpMethod.Delete);
    }

    [Fact]
    public async Task Drain_Heartbeat404_ReregistersOutOfServiceNeverUp_AndResendsOverride()
    {
        using var h = new EurekaHarness();
        h.Initialized();
        h.Shutdown.MarkReady();
        await h.StepAsync();
        h.Shutdown.BeginDrain();
        await h.StepAsync();
        int drainStart = h.Handler.Requests.Count;
        bool lost = true;
        h.Handler.Respond = (r, _) =>
        {
            bool heartbeat = r.Method == HttpMethod.Put && !r.Path.EndsWith("/status", StringComparison.Ordinal);
            if (heartbeat && lost)
            {
                lost = false;
                return Task.FromResult(FakeEurekaHandler.Status(HttpStatusCode.NotFound));
            }

            return Task.FromResult(FakeEurekaHandler.Default(r));
        };

        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(TimeSpan.Zero, await h.StepAsync());
        Assert.Equal(TimeSpan.Zero, await h.StepAsync());
        Assert.Equal(TimeSpan.FromSeconds(30), await h.StepAsync());

        RecordedRequest[] afterDrain = h.Handler.Requests.Skip(drainStart).ToArray();
        Assert.Equal(["PUT", "POST", "PUT"], afterDrain.Select(r => r.Method.Method));
        JsonElement body = Instance(afterDrain[1]);
        Assert.Equal("OUT_OF_SERVICE", body.GetProperty("status").GetString());
        Assert.Equal("OUT_OF_SERVICE", body.GetProperty("overriddenstatus").GetString());
        Assert.StartsWith("?value=OUT_OF_SERVICE", afterDrain[2].Query, StringComparison.Ordinal);
        Assert.Equal(EurekaRegistration.OutOfService, h.State.Registration);
    }

    [Fact]
    public async Task Drain_OverrideAlways404_BacksOffInsteadOfSpinning()
    {
        using var h = new EurekaHarness();
        h.Initialized();
        h.Shutdown.MarkReady();
        await h.StepAsync();
        h.Handler.Respond = (r, _) => Task.FromResult(r.Path.EndsWith("/status", StringComparison.Ordinal)
            ? FakeEurekaHandler.Status(HttpStatusCode.NotFound) : FakeEurekaHandler.Default(r));
        h.Shutdown.BeginDrain();

        Assert.Equal(TimeSpan.Zero, await h.StepAsync());   // override: 404
        Assert.Equal(TimeSpan.Zero, await h.StepAsync());   // register OUT_OF_SERVICE
        Assert.Equal(TimeSpan.FromSeconds(1), await h.StepAsync()); // override: 404 again -> backoff
    }

    [Fact]
    public async Task Drain_BeforeRegistration_MakesNoCalls()
    {
        using var h = new EurekaHarness();
        h.Initialized();
        h.Shutdown.BeginDrain();

        Assert.Equal(Timeout.InfiniteTimeSpan, await h.StepAsync());
        Assert.Equal(Timeout.InfiniteTimeSpan, await h.StepAsync());

        Assert.Empty(h.Handler.Requests);
        Assert.Single(h.LogsWithId(210));
    }

    [Fact]
    public async Task Register_FirstServerDown_FailsOverToTheSecond_AndStaysThere()
    {
        using var h = new EurekaHarness();
        h.Handler.Respond = (r, _) => r.Server == "eureka-a"
            ? throw new HttpRequestException("Connection refused (eureka-a:8761)")
            : Task.FromResult(FakeEurekaHandler.Default(r));
        h.Initialized();

        await h.StepAsync();
        h.Shutdown.MarkReady();
        await h.StepAsync();

        Assert.Equal(["eureka-a", "eureka-b", "eureka-b", "eureka-b"], h.Handler.Requests.Select(r => r.Server));
        Assert.Single(h.LogsWithId(216));
        Assert.Equal(EurekaRegistration.Up, h.State.Registration);
    }

    [Fact]
    public async Task Register_AllServersDown_BacksOffExponentially_UpToTheCap_AndWarnsOnce()
    {
        using var h = new EurekaHarness(client: o => o.RetryMaximumIntervalSeconds = 20);
        bool down = true;
        h.Handler.Respond = (r, _) => down
            ? Task.FromResult(FakeEurekaHandler.Status(HttpStatusCode.ServiceUnavailable))
            : Task.FromResult(FakeEurekaHandler.Default(r));
        h.Initialized();

        var delays = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            delays.Add((await h.StepAsync()).TotalSeconds);
        }

        Assert.Equal([1, 2, 4, 8, 16, 20, 20], delays);
        Assert.Equal(14, h.Handler.Requests.Count);
        Assert.Single(h.LogsWithId(204));
        Assert.Equal(6, h.LogsWithId(217).Count);
        Assert.Equal(EurekaRegistration.NotRegistered, h.State.Registration);

        down = false;
        Assert.Equal(TimeSpan.Zero, await h.StepAsync());
        Assert.Single(h.LogsWithId(205));
        Assert.Equal(0, h.State.ConsecutiveFailures);
    }

    [Fact]
    public async Task Call_ServerHangs_IsBoundedByTheRequestTimeout_ThenTheNextServerIsTried()
    {
        using var h = new EurekaHarness(client: o => o.RequestTimeoutSeconds = 5);
        h.Handler.Respond = (r, ct) => FakeEurekaHandler.Hang(ct);
        h.Initialized();

        Task<TimeSpan> step = h.StepAsync();
        Assert.Equal("eureka-a", (await h.Handler.NextAsync()).Server);
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("eureka-b", (await h.Handler.NextAsync()).Server);
        Assert.False(step.IsCompleted);
        h.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromSeconds(1), await step.WaitAsync(TimeSpan.FromSeconds(10)));
        FakeLogRecordAssert.Contains(h.LogsWithId(204), "TimedOut");
    }

    [Fact]
    public async Task VerifyAfterUp_MalformedJson_IsLoggedOnce()
    {
        using var h = new EurekaHarness();
        h.Handler.Respond = (r, _) => Task.FromResult(r.Method == HttpMethod.Get
            ? FakeEurekaHandler.Status(HttpStatusCode.OK, "{\"instance\": {\"app\": ")
            : r.Method == HttpMethod.Put ? FakeEurekaHandler.Status(HttpStatusCode.NotFound) : FakeEurekaHandler.Default(r));
        h.Initialized();
        h.Shutdown.MarkReady();
        await h.StepAsync();                                   // STARTING first, always

        for (int i = 0; i < 3; i++)
        {
            await h.StepAsync();                               // register UP + GET (malformed)
            h.Time.Advance(TimeSpan.FromSeconds(30));
            await h.StepAsync();                               // heartbeat 404 -> lease lost
        }

        Assert.Equal(3, h.Handler.Requests.Count(r => r.Method == HttpMethod.Get));
        FakeLogRecord unreadable = Assert.Single(h.LogsWithId(213));
        Assert.Equal(LogLevel.Warning, unreadable.Level);
        Assert.Contains("MalformedJson", unreadable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAfterUp_ServerKeepsStickyOverride_Warns()
    {
        using var h = new EurekaHarness();
        h.Handler.Respond = (r, _) => Task.FromResult(r.Method == HttpMethod.Get
            ? FakeEurekaHandler.Status(HttpStatusCode.OK,
                """{"instance":{"instanceId":"pod-1:orders:8080","app":"ORDERS","hostName":"pod-1","status":"OUT_OF_SERVICE","overriddenStatus":"OUT_OF_SERVICE"}}""")
            : FakeEurekaHandler.Default(r));
        h.Initialized();
        h.Shutdown.MarkReady();

        await h.StepAsync();                                   // STARTING
        await h.StepAsync();                                   // UP, then the read-back

        FakeLogRecord warning = Assert.Single(h.LogsWithId(214));
        Assert.Contains("OUT_OF_SERVICE", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_CountCallsByOperationAndOutcome()
    {
        using var h = new EurekaHarness();
        using var calls = new MetricCollector<long>(h.MeterFactory, EurekaMetrics.MeterName, "graceful_shutdown.eureka.calls");
        using var status = new MetricCollector<int>(h.MeterFactory, EurekaMetrics.MeterName, "graceful_shutdown.eureka.registration.status");
        h.Handler.Respond = (r, _) => r.Server == "eureka-a"
            ? throw new HttpRequestException("refused")
            : Task.FromResult(FakeEurekaHandler.Default(r));
        h.Initialized();

        await h.StepAsync();

        Assert.Collection(calls.GetMeasurementSnapshot(),
            m => Assert.Equal(("register", "failed"), ((string)m.Tags["operation"]!, (string)m.Tags["outcome"]!)),
            m => Assert.Equal(("register", "success"), ((string)m.Tags["operation"]!, (string)m.Tags["outcome"]!)));
        status.RecordObservableInstruments();
        Assert.Equal((int)EurekaRegistration.Starting, status.LastMeasurement!.Value);
    }
}

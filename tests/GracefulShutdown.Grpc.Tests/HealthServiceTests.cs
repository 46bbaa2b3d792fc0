using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace GracefulShutdown.Grpc.Tests;

public sealed class HealthServiceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // Long enough for the assertions made while draining; the Watch calls end with UNAVAILABLE when it is over.
    private static readonly TimeSpan LongWait = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Readiness_and_the_empty_name_turn_NOT_SERVING_at_drain_start_while_liveness_and_startup_stay_SERVING()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync(trafficWait: LongWait);
        var health = new Health.HealthClient(host.Channel);
        using AsyncServerStreamingCall<HealthCheckResponse> watch = health.Watch(new HealthCheckRequest { Service = "readiness" });
        await WaitForAsync(watch, ServingStatus.Serving);

        _ = host.Lifecycle.DrainAsync();

        await WaitForAsync(watch, ServingStatus.NotServing);
        Assert.False(host.Lifecycle.TrafficWaitEnded.IsCancellationRequested, "NOT_SERVING must be pushed at drain start, not at the wait's end");
        Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "liveness" })).Status);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "startup" })).Status);
    }

    [Fact]
    public async Task Tagged_health_checks_feed_their_names_and_changes_are_pushed_to_Watch()
    {
        var readyCheck = new SwitchCheck();
        var liveCheck = new SwitchCheck();
        await using GrpcTestHost host = await GrpcTestHost.StartAsync(trafficWait: LongWait, services: s => s.AddHealthChecks()
            .AddCheck("db", readyCheck, tags: [GracefulShutdownTags.Ready])
            .AddCheck("deadlock", liveCheck, tags: [GracefulShutdownTags.Live]));
        var health = new Health.HealthClient(host.Channel);
        using AsyncServerStreamingCall<HealthCheckResponse> ready = health.Watch(new HealthCheckRequest { Service = "" });
        using AsyncServerStreamingCall<HealthCheckResponse> live = health.Watch(new HealthCheckRequest { Service = "liveness" });
        await WaitForAsync(ready, ServingStatus.Serving);
        await WaitForAsync(live, ServingStatus.Serving);

        readyCheck.Status = HealthStatus.Unhealthy;
        await WaitForAsync(ready, ServingStatus.NotServing);
        Assert.Equal(ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "liveness" })).Status);

        readyCheck.Status = HealthStatus.Degraded;
        await WaitForAsync(ready, ServingStatus.Serving);

        liveCheck.Status = HealthStatus.Unhealthy;
        await WaitForAsync(live, ServingStatus.NotServing);
    }

    [Fact]
    public async Task Names_are_configurable_and_other_mapped_names_keep_their_publisher()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync(trafficWait: LongWait, services: s =>
        {
            s.Configure<GrpcShutdownOptions>(o => o.ReadinessService = "greet.Greeter");
            s.AddGrpcHealthChecks(o => o.Services.Map("other", static _ => true));
        });
        var health = new Health.HealthClient(host.Channel);
        using AsyncServerStreamingCall<HealthCheckResponse> watch = health.Watch(new HealthCheckRequest { Service = "greet.Greeter" });
        await WaitForAsync(watch, ServingStatus.Serving);

        _ = host.Lifecycle.DrainAsync();

        await WaitForAsync(watch, ServingStatus.NotServing);
        RpcException unknown = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest { Service = "readiness" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_warning_is_logged_when_the_health_service_is_not_mapped()
    {
        await using GrpcTestHost host = await GrpcTestHost.StartAsync(mapHealth: false);

        Assert.Contains("MapGrpcHealthChecksService", await host.Logs.WaitForEventAsync(403), StringComparison.Ordinal);
    }

    /// <summary>Reads the Watch stream until it pushes <paramref name="expected"/>; fails if the stream ends or times out first.</summary>
    private static async Task WaitForAsync(AsyncServerStreamingCall<HealthCheckResponse> watch, ServingStatus expected)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (await watch.ResponseStream.MoveNext(timeout.Token))
        {
            if (watch.ResponseStream.Current.Status == expected)
            {
                return;
            }
        }

        Assert.Fail($"the Watch stream ended before it pushed {expected}");
    }

    private sealed class SwitchCheck : IHealthCheck
    {
        public HealthStatus Status { get; set; } = HealthStatus.Healthy;

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(new HealthCheckResult(Status));
    }
}

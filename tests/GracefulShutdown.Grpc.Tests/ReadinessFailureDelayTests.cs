using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace GracefulShutdown.Grpc.Tests;

/// <summary>
/// One readiness rule for every health surface: with a readiness failure delay set, <c>grpc.health.v1.Health</c> answers like
/// <c>/health/ready</c> while draining — SERVING during the delay, NOT_SERVING once it has passed, pushed to Watch at that moment.
/// </summary>
public sealed class ReadinessFailureDelayTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan TrafficWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task During_the_delay_HTTP_and_gRPC_readiness_both_serve_after_it_both_fail_and_Watch_gets_NOT_SERVING_when_it_passes()
    {
        var time = new FakeTimeProvider();
        await using GrpcTestHost host = await GrpcTestHost.StartAsync(trafficWait: TrafficWait, services: s =>
        {
            s.AddSingleton<TimeProvider>(time);

            // The one place the test names the option (its key is moving to GracefulShutdown:Endpoints:ReadinessFailureDelay).
            s.Configure<GracefulShutdownOptions>(o => o.Endpoints.ReadinessFailureDelay = Delay);

            // Beyond anything the test advances before the delay passes: NOT_SERVING can come only from the lifecycle's push.
            s.Configure<GrpcShutdownOptions>(o => o.RefreshInterval = TimeSpan.FromMinutes(1));
        });
        using var http = new HttpClient
        {
            BaseAddress = host.Address,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var health = new Health.HealthClient(host.Channel);
        using AsyncServerStreamingCall<HealthCheckResponse> watch = health.Watch(new HealthCheckRequest { Service = "readiness" });
        await WaitForAsync(watch, ServingStatus.Serving);

        try
        {
            _ = host.Lifecycle.DrainAsync();
            await WhenCanceledAsync(host.Lifecycle.DrainStarted);
            Answers atDrainStart = await ReadinessAsync(http, health);
            time.Advance(Delay - TimeSpan.FromMilliseconds(1));
            Answers justBefore = await ReadinessAsync(http, health);
            time.Advance(TimeSpan.FromMilliseconds(1));
            ServingStatus pushed = await NextAsync(watch);
            Answers afterDelay = await ReadinessAsync(http, health);
            bool trafficWaitEnded = host.Lifecycle.TrafficWaitEnded.IsCancellationRequested;

            Assert.Equal(new Answers(HttpStatusCode.OK, ServingStatus.Serving, ServingStatus.Serving), atDrainStart);
            Assert.Equal(new Answers(HttpStatusCode.OK, ServingStatus.Serving, ServingStatus.Serving), justBefore);
            Assert.Equal(ServingStatus.NotServing, pushed);
            Assert.Equal(new Answers(HttpStatusCode.ServiceUnavailable, ServingStatus.NotServing, ServingStatus.NotServing), afterDelay);
            Assert.False(trafficWaitEnded, "NOT_SERVING must follow the delay, not the end of the traffic wait");
        }
        finally
        {
            // The wait ends on fake time too: the host then stops without waiting for it.
            time.Advance(TrafficWait);
        }
    }

    private readonly record struct Answers(HttpStatusCode Http, ServingStatus Readiness, ServingStatus EmptyName);

    private static async Task<Answers> ReadinessAsync(HttpClient http, Health.HealthClient health)
    {
        using HttpResponseMessage ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        HealthCheckResponse readiness = await health.CheckAsync(new HealthCheckRequest { Service = "readiness" });
        HealthCheckResponse emptyName = await health.CheckAsync(new HealthCheckRequest { Service = "" });
        return new Answers(ready.StatusCode, readiness.Status, emptyName.Status);
    }

    private static async Task WaitForAsync(AsyncServerStreamingCall<HealthCheckResponse> watch, ServingStatus expected)
    {
        while (await NextAsync(watch) != expected)
        {
        }
    }

    /// <summary>The next status the Watch call pushes; fails if the stream ends or nothing comes within the timeout.</summary>
    private static async Task<ServingStatus> NextAsync(AsyncServerStreamingCall<HealthCheckResponse> watch)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        Assert.True(await watch.ResponseStream.MoveNext(timeout.Token), "the Watch stream ended");
        return watch.ResponseStream.Current.Status;
    }

    private static async Task WhenCanceledAsync(CancellationToken token)
    {
        var canceled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = token.Register(canceled.SetResult);
        await canceled.Task.WaitAsync(Timeout);
    }
}

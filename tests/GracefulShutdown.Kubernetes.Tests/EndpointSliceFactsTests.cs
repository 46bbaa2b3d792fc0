using System.Diagnostics.Metrics;
using GracefulShutdown.Kubernetes.Diagnostics;
using GracefulShutdown.Kubernetes.Watching;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace GracefulShutdown.Kubernetes.Tests;

/// <summary>
/// "Am I the last?": readiness is held while a Service that selects this pod has no other ready endpoint, released when one is
/// ready or the API fails; and t0, the first slice that shows this endpoint not ready, goes into the report.
/// </summary>
public sealed class EndpointSliceFactsTests : IDisposable
{
    private readonly Mock<ITerminationFacts> _facts = new();
    private readonly Mock<IGracefulShutdownReport> _report = new();
    private readonly Mock<IGracefulShutdown> _shutdown = new();
    private readonly CancellationTokenSource _drainStarted = new();
    private readonly KubernetesOptions _options = new();
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly List<string> _holds = [];
    private int _released;

    public EndpointSliceFactsTests()
    {
        _shutdown.SetupGet(s => s.DrainStarted).Returns(_drainStarted.Token);
        _facts.Setup(f => f.HoldReadiness(It.IsAny<string>())).Returns((string why) =>
        {
            _holds.Add(why);
            var hold = new Mock<IDisposable>();
            hold.Setup(h => h.Dispose()).Callback(() => _released++);
            return hold.Object;
        });
    }

    public void Dispose()
    {
        _drainStarted.Dispose();
        _metrics.Dispose();
    }

    private EndpointSliceFacts Create() => new("web-1", _facts.Object, _report.Object, _shutdown.Object, _options, new FakeTimeProvider(),
        new KubernetesMetrics(_metrics.GetRequiredService<IMeterFactory>()), NullLogger<EndpointSliceFacts>.Instance);

    [Fact]
    public void OnlyReplica_Holds()
    {
        using EndpointSliceFacts slices = Create();

        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"))]);

        Assert.True(slices.Holding);
        Assert.Contains("Service web", Assert.Single(_holds), StringComparison.Ordinal);
    }

    [Fact]
    public void AnotherReadyEndpoint_NoHold()
    {
        using EndpointSliceFacts slices = Create();

        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"), Objects.Endpoint("web-2"))]);

        Assert.False(slices.Holding);
        Assert.Empty(_holds);
    }

    [Fact]
    public void AnotherReadyEndpointInAnotherSliceOfTheSameService_NoHold()
    {
        using EndpointSliceFacts slices = Create();

        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1")), Objects.Slice("web-def", "web", "1", Objects.Endpoint("web-2"))]);

        Assert.False(slices.Holding);
    }

    [Fact]
    public void OtherEndpointNotReady_OrOfAnotherService_StillLast()
    {
        using EndpointSliceFacts slices = Create();

        slices.Replace([
            Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"), Objects.Endpoint("web-2", ready: false)),
            Objects.Slice("api-abc", "api", "1", Objects.Endpoint("api-1")),
        ]);

        Assert.True(slices.Holding);
    }

    [Fact]
    public void LastOfOneServiceOfTwo_Holds()
    {
        using EndpointSliceFacts slices = Create();

        slices.Replace([
            Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"), Objects.Endpoint("web-2")),
            Objects.Slice("admin-abc", "web-admin", "1", Objects.Endpoint("web-1")),
        ]);

        Assert.Contains("Service web-admin", Assert.Single(_holds), StringComparison.Ordinal);
    }

    [Fact]
    public void NilReady_CountsAsReady()
    {
        using EndpointSliceFacts slices = Create();

        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"), Objects.Endpoint("web-2", ready: null))]);

        Assert.False(slices.Holding);
    }

    [Fact]
    public void Rollout_HeldUntilTheNewPodIsReady_ThenReleased()
    {
        using EndpointSliceFacts slices = Create();
        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"))]);

        // maxSurge 0: this pod is deleted first, its replacement starts, not ready yet.
        slices.Apply(WatchEventType.Modified, Objects.Slice("web-abc", "web", "2",
            Objects.Endpoint("web-1", ready: false, serving: true, terminating: true), Objects.Endpoint("web-2", ready: false)));
        Assert.True(slices.Holding);
        Assert.Equal(0, _released);

        slices.Apply(WatchEventType.Modified, Objects.Slice("web-abc", "web", "3",
            Objects.Endpoint("web-1", ready: false, serving: true, terminating: true), Objects.Endpoint("web-2", ready: true)));

        Assert.False(slices.Holding);
        Assert.Equal(1, _released);
        Assert.Single(_holds);
    }

    [Fact]
    public void SliceDeleted_NoLongerListed_Released()
    {
        using EndpointSliceFacts slices = Create();
        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"))]);

        slices.Apply(WatchEventType.Deleted, Objects.Slice("web-abc", "web", "2"));

        Assert.False(slices.Holding);
    }

    [Fact]
    public void ApiLost_Released()
    {
        using EndpointSliceFacts slices = Create();
        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"))]);

        slices.Lost();

        Assert.False(slices.Holding);
        Assert.Equal(1, _released);
    }

    [Fact]
    public void HoldTurnedOff_NeverHolds()
    {
        _options.HoldReadinessWhileLastEndpoint = false;
        using EndpointSliceFacts slices = Create();

        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"))]);

        Assert.False(slices.Holding);
        _facts.Verify(f => f.HoldReadiness(It.IsAny<string>()), Times.Never);
    }

    [Fact]
    public void NotListed_NoHold()
    {
        using EndpointSliceFacts slices = Create();

        slices.Replace([Objects.Slice("api-abc", "api", "1", Objects.Endpoint("api-1"))]);

        Assert.False(slices.Holding);
    }

    [Fact]
    public void EndpointPublishedNotReady_DuringTheDrain_OneReportStep()
    {
        _drainStarted.Cancel();
        using EndpointSliceFacts slices = Create();
        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1"), Objects.Endpoint("web-2"))]);
        _report.VerifyNoOtherCalls();

        V1EndpointSlice terminating = Objects.Slice("web-abc", "web", "2", Objects.Endpoint("web-1", ready: false, serving: false, terminating: true),
            Objects.Endpoint("web-2"));
        terminating.Metadata.Annotations = new Dictionary<string, string> { ["endpoints.kubernetes.io/last-change-trigger-time"] = "2026-12-07T12:00:00Z" };
        slices.Apply(WatchEventType.Modified, terminating);
        slices.Apply(WatchEventType.Modified, terminating);

        _report.Verify(r => r.Add("kubernetes",
            "EndpointSlice web-abc shows this endpoint ready=False, serving=False, terminating=True; last change trigger 2026-12-07T12:00:00Z"), Times.Once);
    }

    [Fact]
    public void EndpointPublishedNotReady_BeforeTheDrain_ReportedWhenItBegins()
    {
        using EndpointSliceFacts slices = Create();
        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1", ready: false, terminating: true), Objects.Endpoint("web-2"))]);
        _report.VerifyNoOtherCalls();

        _drainStarted.Cancel();

        _report.Verify(r => r.Add("kubernetes", It.Is<string>(s => s.Contains("before the drain", StringComparison.Ordinal))), Times.Once);
    }

    [Fact]
    public void NotReadyAtStartUp_NotReported_TheTerminationIs()
    {
        _drainStarted.Cancel();
        using EndpointSliceFacts slices = Create();
        slices.Replace([Objects.Slice("web-abc", "web", "1", Objects.Endpoint("web-1", ready: false, serving: false), Objects.Endpoint("web-2"))]);
        slices.Apply(WatchEventType.Modified, Objects.Slice("web-abc", "web", "2", Objects.Endpoint("web-1"), Objects.Endpoint("web-2")));
        _report.VerifyNoOtherCalls();

        slices.Apply(WatchEventType.Modified, Objects.Slice("web-abc", "web", "3",
            Objects.Endpoint("web-1", ready: false, serving: true, terminating: true), Objects.Endpoint("web-2")));

        _report.Verify(r => r.Add("kubernetes", "EndpointSlice web-abc shows this endpoint ready=False, serving=True, terminating=True"), Times.Once);
    }
}

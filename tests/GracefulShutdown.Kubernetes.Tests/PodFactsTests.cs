using GracefulShutdown.Kubernetes.Watching;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace GracefulShutdown.Kubernetes.Tests;

/// <summary>What the pod object tells the core: the deletion deadline, the DisruptionTarget reason, graceful node shutdown.</summary>
public sealed class PodFactsTests
{
    private readonly Mock<ITerminationFacts> _facts = new();
    private readonly KubernetesOptions _options = new();

    private PodFacts Create() => new(_facts.Object, _options, NullLogger<PodFacts>.Instance);

    private static V1PodCondition Disruption(string reason, string message, string status = "True") =>
        new() { Type = "DisruptionTarget", Status = status, Reason = reason, Message = message };

    [Fact]
    public void Running_NothingToTell()
    {
        Create().Replace([Objects.Pod()]);

        _facts.VerifyNoOtherCalls();
    }

    [Fact]
    public void Deleted_TheDeletionTimestampIsTheDeadline()
    {
        var deletion = new DateTime(2026, 12, 7, 12, 0, 8, DateTimeKind.Utc);

        Create().Apply(WatchEventType.Modified, Objects.Pod(deletion: deletion, grace: 8));

        _facts.Verify(f => f.ReportDeadline(new DateTimeOffset(deletion), "Kubernetes deletionTimestamp (deletionGracePeriodSeconds 8)"));
    }

    [Fact]
    public void Evicted_TheReasonIsTold_TheWaitIsNotSkipped()
    {
        Create().Apply(WatchEventType.Modified, Objects.Pod(conditions: Disruption("EvictionByEvictionAPI", "Eviction API: evicting")));

        _facts.Verify(f => f.ReportReason("EvictionByEvictionAPI", "Eviction API: evicting"));
        _facts.Verify(f => f.SkipTrafficWait(It.IsAny<string>()), Times.Never);
    }

    [Fact]
    public void GracefulNodeShutdown_TheWaitIsSkippedOnce()
    {
        PodFacts pod = Create();
        V1Pod shutting = Objects.Pod(conditions: Disruption("TerminationByKubelet", "Pod was terminated in response to imminent node shutdown."));

        pod.Apply(WatchEventType.Modified, shutting);
        pod.Apply(WatchEventType.Modified, shutting);

        _facts.Verify(f => f.SkipTrafficWait(It.Is<string>(s => s.Contains("graceful node shutdown", StringComparison.Ordinal))), Times.Once);
    }

    [Fact]
    public void NodePressureEviction_SameReasonOtherMessage_NotSkipped()
    {
        Create().Apply(WatchEventType.Modified, Objects.Pod(conditions: Disruption("TerminationByKubelet", "The node was low on resource: memory.")));

        _facts.Verify(f => f.ReportReason("TerminationByKubelet", "The node was low on resource: memory."));
        _facts.Verify(f => f.SkipTrafficWait(It.IsAny<string>()), Times.Never);
    }

    [Fact]
    public void NodeShutdown_SkipTurnedOff_OnlyTheReason()
    {
        _options.SkipTrafficWaitOnNodeShutdown = false;

        Create().Apply(WatchEventType.Modified, Objects.Pod(conditions: Disruption("TerminationByKubelet", "Pod was terminated in response to imminent node shutdown.")));

        _facts.Verify(f => f.ReportReason("TerminationByKubelet", It.IsAny<string>()));
        _facts.Verify(f => f.SkipTrafficWait(It.IsAny<string>()), Times.Never);
    }

    [Fact]
    public void ConditionNotTrue_Ignored()
    {
        Create().Apply(WatchEventType.Modified, Objects.Pod(conditions: Disruption("PreemptionByScheduler", "preempted", status: "False")));

        _facts.VerifyNoOtherCalls();
    }
}

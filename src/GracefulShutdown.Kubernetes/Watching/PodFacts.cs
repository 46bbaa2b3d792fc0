using System.Globalization;
using GracefulShutdown.Kubernetes.Diagnostics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Kubernetes.Watching;

/// <summary>
/// Reads this pod as the API shows it and tells the core what it says about the termination (<see cref="ITerminationFacts"/>):
/// <list type="bullet">
/// <item><c>metadata.deletionTimestamp</c> — set at deletion to the moment the grace period (<c>deletionGracePeriodSeconds</c>,
/// shorter than the spec after <c>kubectl delete --grace-period</c>, an eviction or node pressure) runs out: the deadline;</item>
/// <item>the <c>DisruptionTarget</c> condition — the reason; <c>TerminationByKubelet</c> with the node-shutdown message means
/// graceful node shutdown, where endpoints are not updated: the traffic wait is skipped.</item>
/// </list>
/// </summary>
internal sealed class PodFacts(ITerminationFacts facts, KubernetesOptions options, ILogger<PodFacts> logger) : IResourceConsumer<V1Pod>
{
    /// <summary>The condition type that says why a pod is about to be disrupted (GA in 1.31).</summary>
    public const string DisruptionTarget = "DisruptionTarget";

    /// <summary>The reason the kubelet gives for node-pressure eviction and graceful node shutdown alike.</summary>
    public const string TerminationByKubelet = "TerminationByKubelet";

    /// <summary>Part of the kubelet's message on graceful node shutdown: "Pod was terminated in response to imminent node shutdown."</summary>
    public const string NodeShutdownMessage = "imminent node shutdown";

    private int _nodeShutdown;

    public void Replace(IReadOnlyList<V1Pod> items)
    {
        foreach (V1Pod pod in items)
        {
            Read(pod);
        }
    }

    public void Apply(WatchEventType type, V1Pod item)
    {
        if (type is WatchEventType.Added or WatchEventType.Modified)
        {
            Read(item);
        }
    }

    // What was learnt stays true: a deadline or a reason does not go away when the API does.
    public void Lost()
    {
    }

    private void Read(V1Pod pod)
    {
        if (pod.Metadata?.DeletionTimestamp is DateTime deletion)
        {
            var killAt = new DateTimeOffset(DateTime.SpecifyKind(deletion, DateTimeKind.Utc));
            string grace = pod.Metadata.DeletionGracePeriodSeconds is long seconds
                ? string.Create(CultureInfo.InvariantCulture, $" (deletionGracePeriodSeconds {seconds})")
                : "";
            facts.ReportDeadline(killAt, "Kubernetes deletionTimestamp" + grace);
        }

        V1PodCondition? disruption = pod.Status?.Conditions?.FirstOrDefault(static c =>
            c.Type == DisruptionTarget && string.Equals(c.Status, "True", StringComparison.OrdinalIgnoreCase));
        if (disruption is null || string.IsNullOrEmpty(disruption.Reason))
        {
            return;
        }

        facts.ReportReason(disruption.Reason, disruption.Message);
        if (options.SkipTrafficWaitOnNodeShutdown && IsNodeShutdown(disruption) && Interlocked.Exchange(ref _nodeShutdown, 1) == 0)
        {
            logger.NodeShutdown(disruption.Reason, disruption.Message ?? "");
            facts.SkipTrafficWait("graceful node shutdown (DisruptionTarget " + disruption.Reason +
                "): the kubelet does not update endpoints, so no balancer lets go");
        }
    }

    private static bool IsNodeShutdown(V1PodCondition condition) =>
        condition.Reason == TerminationByKubelet
        && condition.Message?.Contains(NodeShutdownMessage, StringComparison.OrdinalIgnoreCase) == true;
}

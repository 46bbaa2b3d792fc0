using System.Net;
using GracefulShutdown.Kubernetes.Api;
using GracefulShutdown.Kubernetes.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GracefulShutdown.Kubernetes.Watching;

/// <summary>
/// Names a failed call's fault and logs it: one warning per kind of fault for the life of the process (the API down for an hour
/// is one line, not 120), then Debug. Shared by both watches.
/// </summary>
internal sealed class ApiFaults(ILogger<ApiFaults> logger)
{
    private readonly HashSet<string> _warned = [];
    private readonly Lock _sync = new();

    /// <summary>The metric outcome and the fault's name for an exception from a call (<paramref name="timedOut"/>: our bound fired).</summary>
    public static string Classify(Exception exception, bool timedOut) => exception switch
    {
        _ when timedOut => "timed_out",
        KubernetesApiException { StatusCode: 410 } => "gone",
        KubernetesApiException { StatusCode: (int)HttpStatusCode.Unauthorized } => "unauthorized",
        KubernetesApiException { StatusCode: (int)HttpStatusCode.Forbidden } => "forbidden",
        KubernetesApiException { StatusCode: 0 } => "malformed",
        KubernetesApiException => "failed",
        _ => "unreachable",
    };

    public void Report(string operation, string resource, string fault, Exception exception, TimeSpan retryIn)
    {
        string message = Describe(fault, exception);
        bool first;
        lock (_sync)
        {
            first = _warned.Add(fault);
        }

        if (first)
        {
            logger.Fault(operation, resource, fault, message, retryIn);
        }
        else
        {
            logger.FaultRepeated(operation, resource, fault, message, retryIn);
        }
    }

    private static string Describe(string fault, Exception exception) => fault switch
    {
        "unauthorized" => "401: the service account token was refused",
        "forbidden" => "403: RBAC does not allow it — see samples/k8s/rbac.yaml (get/list/watch pods, list/watch endpointslices)",
        "timed_out" => "no answer within GracefulShutdown:Kubernetes:RequestTimeout",
        _ => exception.Message,
    };
}

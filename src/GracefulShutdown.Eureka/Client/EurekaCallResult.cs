namespace GracefulShutdown.Eureka.Client;

/// <summary>How one Eureka operation ended, across every server tried.</summary>
internal enum EurekaCallOutcome
{
    /// <summary>A 2xx answer.</summary>
    Success,

    /// <summary>404: no such instance or lease. A definitive answer; no other server is tried.</summary>
    NotFound,

    /// <summary>Another 4xx (e.g. 400 "Missing instanceId"): a definitive answer; no other server is tried.</summary>
    Rejected,

    /// <summary>Every server failed: transport error or 5xx.</summary>
    Failed,

    /// <summary>Every server failed and the last one did not answer within the request timeout.</summary>
    TimedOut,
}

/// <summary>The result of one operation: the outcome, the server that gave it (redacted) and the body of a 2xx answer.</summary>
internal sealed record EurekaCallResult(EurekaCallOutcome Outcome, string Server, int? StatusCode, string? Detail, byte[]? Body = null)
{
    public bool Succeeded => Outcome == EurekaCallOutcome.Success;
}

internal static class EurekaCallOutcomeNames
{
    /// <summary>The value of the <c>outcome</c> metric tag (a public contract: never rename).</summary>
    public static string ToName(this EurekaCallOutcome outcome) => outcome switch
    {
        EurekaCallOutcome.Success => "success",
        EurekaCallOutcome.NotFound => "not_found",
        EurekaCallOutcome.Rejected => "rejected",
        EurekaCallOutcome.TimedOut => "timed_out",
        _ => "failed",
    };
}

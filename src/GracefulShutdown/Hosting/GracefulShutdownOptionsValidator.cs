using System.Globalization;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Hosting;

/// <summary>
/// Validates the options at start-up (<c>ValidateOnStart</c>). Every message names the configuration keys and their values.
/// </summary>
internal sealed class GracefulShutdownOptionsValidator : IValidateOptions<GracefulShutdownOptions>
{
    private const string Prefix = GracefulShutdownOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, GracefulShutdownOptions options)
    {
        var failures = new List<string>();
        TrafficWaitOptions wait = options.TrafficWait;

        NotNegative(failures, "TrafficWait:Minimum", wait.Minimum);
        NotNegative(failures, "TrafficWait:QuietPeriod", wait.QuietPeriod);
        NotNegative(failures, "TrafficWait:Maximum", wait.Maximum);
        Positive(failures, "DrainTimeout", options.DrainTimeout);
        NotNegative(failures, "DrainCancellationLead", options.DrainCancellationLead);
        NotNegative(failures, "StopMargin", options.StopMargin);
        Positive(failures, "TerminationGracePeriod", options.TerminationGracePeriod);

        if (wait.QuietPeriod > wait.Maximum)
        {
            failures.Add($"{Prefix}TrafficWait:QuietPeriod ({wait.QuietPeriod}) must not exceed {Prefix}TrafficWait:Maximum ({wait.Maximum}).");
        }

        if (!(wait.SilenceConfidence is >= 0.5 and <= 0.999999))
        {
            failures.Add($"{Prefix}TrafficWait:SilenceConfidence ({wait.SilenceConfidence.ToString(CultureInfo.InvariantCulture)}) must be between 0.5 and 0.999999.");
        }

        if (!(wait.IdleThreshold is >= 0 and <= 1))
        {
            failures.Add($"{Prefix}TrafficWait:IdleThreshold ({wait.IdleThreshold.ToString(CultureInfo.InvariantCulture)}) must be between 0 and 1.");
        }

        foreach (string? prefix in wait.IgnoredPaths ?? [])
        {
            if (string.IsNullOrEmpty(prefix) || prefix[0] != '/')
            {
                failures.Add($"{Prefix}TrafficWait:IgnoredPaths ('{prefix}') must each start with '/'.");
            }
        }

        if (wait.RateWindow < TimeSpan.FromSeconds(1) || wait.RateWindow > TimeSpan.FromMinutes(10))
        {
            failures.Add($"{Prefix}TrafficWait:RateWindow ({wait.RateWindow}) must be between 00:00:01 and 00:10:00.");
        }

        if (wait.Minimum > wait.Maximum)
        {
            failures.Add($"{Prefix}TrafficWait:Minimum ({wait.Minimum}) must not exceed {Prefix}TrafficWait:Maximum ({wait.Maximum}).");
        }

        if (options.DrainCancellationLead >= options.DrainTimeout && options.DrainTimeout > TimeSpan.Zero)
        {
            failures.Add($"{Prefix}DrainCancellationLead ({options.DrainCancellationLead}) must be less than {Prefix}DrainTimeout ({options.DrainTimeout}).");
        }

        ValidateConnections(failures, options);

        TimeSpan budget = wait.Maximum + options.DrainTimeout + options.StopMargin;
        if (budget > options.TerminationGracePeriod)
        {
            failures.Add(
                $"The shutdown budget {Prefix}TrafficWait:Maximum ({wait.Maximum}) + {Prefix}DrainTimeout ({options.DrainTimeout}) + " +
                $"{Prefix}StopMargin ({options.StopMargin}) = {budget} exceeds {Prefix}TerminationGracePeriod ({options.TerminationGracePeriod}); " +
                "Kubernetes would SIGKILL the pod mid-drain. Shorten the wait or the drain, or raise terminationGracePeriodSeconds and " +
                $"{Prefix}TerminationGracePeriod together.");
        }

        if (wait.ReadinessFailureDelay < TimeSpan.Zero || wait.ReadinessFailureDelay > wait.Maximum)
        {
            failures.Add($"{Prefix}TrafficWait:ReadinessFailureDelay ({wait.ReadinessFailureDelay}) must be between 00:00:00 and " +
                $"{Prefix}TrafficWait:Maximum ({wait.Maximum}).");
        }

        NotNegative(failures, "PreStop:SigTermMargin", options.PreStop.SigTermMargin);
        ValidateSidecar(failures, options.Sidecar);

        if (options.ManagementPort is int port && port is < 1 or > 65535)
        {
            failures.Add($"{Prefix}ManagementPort ({port}) must be between 1 and 65535.");
        }

        if (options.PreStop.Token is { } token && (token.Length == 0 || string.IsNullOrWhiteSpace(token)))
        {
            failures.Add($"{Prefix}PreStop:Token must not be empty or white space when set.");
        }

        if (string.IsNullOrWhiteSpace(options.PreStop.TokenHeaderName) || options.PreStop.TokenHeaderName.Any(static c => c <= ' ' || c >= 127 || c == ':'))
        {
            failures.Add($"{Prefix}PreStop:TokenHeaderName ('{options.PreStop.TokenHeaderName}') must be a valid HTTP header name.");
        }

        if (options.Endpoints.CheckResultCacheDuration < TimeSpan.Zero || options.Endpoints.CheckResultCacheDuration > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{Prefix}Endpoints:CheckResultCacheDuration ({options.Endpoints.CheckResultCacheDuration}) must be between 00:00:00 and 00:01:00.");
        }

        ValidatePaths(failures, options.Endpoints);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidatePaths(List<string> failures, GracefulShutdownEndpointOptions endpoints)
    {
        (string Key, string Path)[] paths =
        [
            ("Endpoints:StartupPath", endpoints.StartupPath),
            ("Endpoints:ReadinessPath", endpoints.ReadinessPath),
            ("Endpoints:LivenessPath", endpoints.LivenessPath),
            ("Endpoints:PreStopPath", endpoints.PreStopPath),
        ];
        foreach ((string key, string path) in paths)
        {
            if (string.IsNullOrEmpty(path) || path[0] != '/' || path.Any(static c => c is '?' or '#' || char.IsWhiteSpace(c)))
            {
                failures.Add($"{Prefix}{key} ('{path}') must be a path that starts with '/' and has no query, fragment or white space.");
            }
        }

        foreach (IGrouping<string, (string Key, string Path)> group in paths.GroupBy(static p => p.Path, StringComparer.OrdinalIgnoreCase))
        {
            if (group.Count() > 1)
            {
                failures.Add($"{string.Join(" and ", group.Select(static p => Prefix + p.Key))} are all '{group.Key}'; each endpoint needs its own path.");
            }
        }
    }

    private static void ValidateConnections(List<string> failures, GracefulShutdownOptions options)
    {
        LongLivedConnectionOptions connections = options.Connections;
        NotNegative(failures, "Connections:CloseWindow", connections.CloseWindow);
        if (connections.CloseTimeout is not TimeSpan closeTimeout)
        {
            return;
        }

        Positive(failures, "Connections:CloseTimeout", closeTimeout);
        if (connections.CloseWindow > closeTimeout)
        {
            failures.Add($"{Prefix}Connections:CloseWindow ({connections.CloseWindow}) must not exceed {Prefix}Connections:CloseTimeout ({closeTimeout}).");
        }

        // The close counts within the drain: the server drain must still get at least the cancellation lead.
        TimeSpan room = options.DrainTimeout - options.DrainCancellationLead;
        if (closeTimeout > room && room > TimeSpan.Zero)
        {
            failures.Add($"{Prefix}Connections:CloseTimeout ({closeTimeout}) must not exceed {Prefix}DrainTimeout ({options.DrainTimeout}) " +
                $"minus {Prefix}DrainCancellationLead ({options.DrainCancellationLead}) = {room}: the close counts within the drain.");
        }
    }

    private static void ValidateSidecar(List<string> failures, SidecarOptions sidecar)
    {
        if (sidecar.ReadyUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add($"{Prefix}Sidecar:ReadyUrl ('{url.OriginalString}') must be an absolute http or https URL, e.g. http://127.0.0.1:15021/healthz/ready.");
        }

        if (sidecar.PollInterval <= TimeSpan.Zero || sidecar.PollInterval > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{Prefix}Sidecar:PollInterval ({sidecar.PollInterval}) must be greater than zero and at most 00:01:00.");
        }

        if (sidecar.DrainDuration is TimeSpan drain)
        {
            NotNegative(failures, "Sidecar:DrainDuration", drain);
        }
    }

    private static void NotNegative(List<string> failures, string key, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{key} ({value}) must not be negative.");
        }
    }

    private static void Positive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{Prefix}{key} ({value}) must be greater than zero.");
        }
    }
}

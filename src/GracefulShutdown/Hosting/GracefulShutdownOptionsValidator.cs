using Microsoft.Extensions.Options;

namespace GracefulShutdown.Hosting;

/// <summary>
/// Validates the options at start-up (<c>ValidateOnStart</c>): each setting by the rule on its property (source-generated, see
/// SettingAttributes.cs), then the rules between settings. Every message names the configuration keys and their values.
/// </summary>
internal sealed class GracefulShutdownOptionsValidator : IValidateOptions<GracefulShutdownOptions>
{
    private const string Prefix = GracefulShutdownOptions.SectionName + ":";
    private static readonly GracefulShutdownSettingsValidator s_settings = new();
    private static readonly HealthCheckerProfileSettingsValidator s_profiles = new();

    public ValidateOptionsResult Validate(string? name, GracefulShutdownOptions options)
    {
        var failures = new ValidateOptionsResultBuilder();

        // Run with the section path as the name, so that each message starts with the full key (GracefulShutdown:TrafficWait:…).
        failures.AddResult(s_settings.Validate(GracefulShutdownOptions.SectionName, options));

        TrafficWaitOptions wait = options.TrafficWait;
        NotAbove(failures, "TrafficWait:Minimum", wait.Minimum, "TrafficWait:Maximum", wait.Maximum);
        NotAbove(failures, "TrafficWait:QuietPeriod", wait.QuietPeriod, "TrafficWait:Maximum", wait.Maximum);
        NotAbove(failures, "Endpoints:ReadinessFailureDelay", options.Endpoints.ReadinessFailureDelay, "TrafficWait:Maximum", wait.Maximum);
        if (options.DrainCancellationLead >= options.DrainTimeout && options.DrainTimeout > TimeSpan.Zero)
        {
            failures.AddError($"{Prefix}DrainCancellationLead ({options.DrainCancellationLead}) must be less than {Prefix}DrainTimeout ({options.DrainTimeout}).");
        }

        ValidateCloseTimeout(failures, options);
        ValidateProfiles(failures, options.HealthCheckers);
        ValidateDistinctPaths(failures, options.Endpoints);

        var budget = ShutdownBudget.From(options);
        if (budget.Total > options.TerminationGracePeriod)
        {
            failures.AddError(
                $"The shutdown budget {Prefix}TrafficWait:Maximum ({wait.Maximum}) + {Prefix}DrainTimeout ({options.DrainTimeout}) + " +
                $"{Prefix}StopMargin ({options.StopMargin}) = {Describe(budget.Total)} exceeds {Prefix}TerminationGracePeriod ({options.TerminationGracePeriod}); " +
                "Kubernetes would SIGKILL the pod mid-drain. Shorten the wait or the drain, or raise terminationGracePeriodSeconds and " +
                $"{Prefix}TerminationGracePeriod together.");
        }

        return failures.Build();
    }

    private static void ValidateCloseTimeout(ValidateOptionsResultBuilder failures, GracefulShutdownOptions options)
    {
        if (options.Connections.CloseTimeout is not TimeSpan closeTimeout)
        {
            return;
        }

        NotAbove(failures, "Connections:CloseWindow", options.Connections.CloseWindow, "Connections:CloseTimeout", closeTimeout);

        // The close counts within the drain: the server drain must still get at least the cancellation lead.
        TimeSpan room = ShutdownBudget.Subtract(options.DrainTimeout, options.DrainCancellationLead);
        if (closeTimeout > room && room > TimeSpan.Zero)
        {
            failures.AddError($"{Prefix}Connections:CloseTimeout ({closeTimeout}) must not exceed {Prefix}DrainTimeout ({options.DrainTimeout}) " +
                $"minus {Prefix}DrainCancellationLead ({options.DrainCancellationLead}) = {room}: the close counts within the drain.");
        }
    }

    /// <summary>
    /// Each profile by the attributes on its properties. A User-Agent key may hold dots ("ELB-HealthChecker/2.0"), which the
    /// attributes' key would turn into ':'; the key is put back into the messages as it is.
    /// </summary>
    private static void ValidateProfiles(ValidateOptionsResultBuilder failures, HealthCheckerOptions checkers)
    {
        const string Placeholder = "\u0001";
        foreach ((string userAgent, HealthCheckerProfileOptions? profile) in checkers.Profiles)
        {
            string key = $"{Prefix}HealthCheckers:Profiles:{userAgent}";
            if (string.IsNullOrWhiteSpace(userAgent))
            {
                failures.AddError($"{key} must name a User-Agent (or '(none)' for checkers that send none).");
            }

            if (profile is null)
            {
                continue;
            }

            ValidateOptionsResult result = s_profiles.Validate(Placeholder, profile);
            if (result.Failed)
            {
                foreach (string failure in result.Failures)
                {
                    failures.AddError(failure.Replace(Placeholder, key, StringComparison.Ordinal));
                }
            }
        }
    }

    private static void ValidateDistinctPaths(ValidateOptionsResultBuilder failures, GracefulShutdownEndpointOptions endpoints)
    {
        (string Key, string Path)[] paths =
        [
            ("Endpoints:StartupPath", endpoints.StartupPath),
            ("Endpoints:ReadinessPath", endpoints.ReadinessPath),
            ("Endpoints:LivenessPath", endpoints.LivenessPath),
            ("Endpoints:PreStopPath", endpoints.PreStopPath),
        ];
        foreach (IGrouping<string?, (string Key, string Path)> group in paths.GroupBy(static p => p.Path, StringComparer.OrdinalIgnoreCase))
        {
            if (group.Count() > 1)
            {
                failures.AddError($"{string.Join(" and ", group.Select(static p => Prefix + p.Key))} are all '{group.Key}'; each endpoint needs its own path.");
            }
        }
    }

    private static void NotAbove(ValidateOptionsResultBuilder failures, string key, TimeSpan value, string limitKey, TimeSpan limit)
    {
        if (value > limit)
        {
            failures.AddError($"{Prefix}{key} ({value}) must not exceed {Prefix}{limitKey} ({limit}).");
        }
    }

    // A saturated sum is shown as what it is, not as TimeSpan.MaxValue's digits.
    private static string Describe(TimeSpan total) => total == TimeSpan.MaxValue ? "more than TimeSpan.MaxValue" : total.ToString();
}

/// <summary>The rules of single settings, from the attributes on the options' properties.</summary>
[OptionsValidator]
internal sealed partial class GracefulShutdownSettingsValidator : IValidateOptions<GracefulShutdownOptions>;

/// <summary>The rules of one health-checker profile's settings, from the attributes on its properties.</summary>
[OptionsValidator]
internal sealed partial class HealthCheckerProfileSettingsValidator : IValidateOptions<HealthCheckerProfileOptions>;

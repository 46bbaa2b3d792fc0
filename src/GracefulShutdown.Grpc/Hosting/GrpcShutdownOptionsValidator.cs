using Microsoft.Extensions.Options;

namespace GracefulShutdown.Grpc.Hosting;

/// <summary>Validates <c>GracefulShutdown:Grpc</c> at start-up; every message names the key and its value.</summary>
internal sealed class GrpcShutdownOptionsValidator : IValidateOptions<GrpcShutdownOptions>
{
    private const string Prefix = GrpcShutdownOptions.SectionName + ":";
    private static readonly TimeSpan MinimumRefresh = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaximumRefresh = TimeSpan.FromMinutes(1);

    public ValidateOptionsResult Validate(string? name, GrpcShutdownOptions options)
    {
        var failures = new List<string>();
        Name(failures, nameof(options.ReadinessService), options.ReadinessService);
        Name(failures, nameof(options.LivenessService), options.LivenessService);
        Name(failures, nameof(options.StartupService), options.StartupService);
        Distinct(failures, nameof(options.ReadinessService), options.ReadinessService, nameof(options.LivenessService), options.LivenessService);
        Distinct(failures, nameof(options.ReadinessService), options.ReadinessService, nameof(options.StartupService), options.StartupService);
        Distinct(failures, nameof(options.LivenessService), options.LivenessService, nameof(options.StartupService), options.StartupService);
        if (options.RefreshInterval < MinimumRefresh || options.RefreshInterval > MaximumRefresh)
        {
            failures.Add($"{Prefix}RefreshInterval ({options.RefreshInterval}) must be between {MinimumRefresh} and {MaximumRefresh}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Name(List<string> failures, string key, string? value)
    {
        // "" is the overall name, which always follows readiness; a blank name would shadow it.
        if (string.IsNullOrWhiteSpace(value) || value.Trim().Length != value.Length)
        {
            failures.Add($"{Prefix}{key} ('{value}') must be a non-empty service name without surrounding white space; " +
                "the empty name \"\" always answers like readiness.");
        }
    }

    private static void Distinct(List<string> failures, string key, string? value, string otherKey, string? otherValue)
    {
        if (!string.IsNullOrWhiteSpace(value) && string.Equals(value, otherValue, StringComparison.Ordinal))
        {
            failures.Add($"{Prefix}{key} and {Prefix}{otherKey} are both '{value}'; each probe needs its own service name.");
        }
    }
}

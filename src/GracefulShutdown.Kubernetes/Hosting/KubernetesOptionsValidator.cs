using System.Globalization;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Kubernetes.Hosting;

/// <summary>Fails start-up on a setting that cannot work, naming the key and the value.</summary>
internal sealed class KubernetesOptionsValidator : IValidateOptions<KubernetesOptions>
{
    private static readonly TimeSpan s_longest = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, KubernetesOptions options)
    {
        var failures = new List<string>();
        Positive(failures, nameof(KubernetesOptions.RequestTimeout), options.RequestTimeout);
        Positive(failures, nameof(KubernetesOptions.WatchTimeout), options.WatchTimeout);
        Positive(failures, nameof(KubernetesOptions.RetryDelay), options.RetryDelay);
        Positive(failures, nameof(KubernetesOptions.RetryDelayMaximum), options.RetryDelayMaximum);
        if (options.WatchTimeout < TimeSpan.FromSeconds(1) && options.WatchTimeout > TimeSpan.Zero)
        {
            failures.Add(Message(nameof(KubernetesOptions.WatchTimeout), options.WatchTimeout, "must be at least 1 s (the API counts it in whole seconds)"));
        }

        if (options.RetryDelayMaximum < options.RetryDelay)
        {
            failures.Add(Message(nameof(KubernetesOptions.RetryDelayMaximum), options.RetryDelayMaximum,
                string.Create(CultureInfo.InvariantCulture, $"must not be shorter than RetryDelay ({options.RetryDelay})")));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > s_longest)
        {
            failures.Add(Message(key, value, "must be greater than zero and at most 1 day"));
        }
    }

    private static string Message(string key, TimeSpan value, string rule) =>
        string.Create(CultureInfo.InvariantCulture, $"{KubernetesOptions.SectionName}:{key} = {value} {rule}.");
}

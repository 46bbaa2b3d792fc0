using Microsoft.Extensions.Options;

namespace GracefulShutdown.Eureka.Configuration;

/// <summary>Validates <c>eureka:client</c> at start-up; every message names the key and its value.</summary>
internal sealed class EurekaClientOptionsValidator : IValidateOptions<EurekaClientOptions>
{
    private const string Prefix = EurekaClientOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, EurekaClientOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            foreach (string part in options.ServiceUrl.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!Uri.TryCreate(part, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    failures.Add($"{Prefix}serviceUrl contains '{Redact(part)}', which is not an absolute http or https URI " +
                        "(e.g. http://eureka:8761/eureka/); separate several servers with commas.");
                }
                else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
                {
                    failures.Add($"{Prefix}serviceUrl contains '{Redact(part)}', which has a query or fragment; give the base URL only.");
                }
            }
        }

        Range(failures, "requestTimeoutSeconds", options.RequestTimeoutSeconds, 1, 300);
        Range(failures, "retryMaximumIntervalSeconds", options.RetryMaximumIntervalSeconds, 1, 3600);
        Range(failures, "propagationSeconds", options.PropagationSeconds, 0, 3600);
        Range(failures, "cachedViewPollSeconds", options.CachedViewPollSeconds, 0, 60);
        Range(failures, "callerFetchIntervalSeconds", options.CallerFetchIntervalSeconds, 0, 3600);
        Range(failures, "callerLoadBalancerCacheSeconds", options.CallerLoadBalancerCacheSeconds, 0, 3600);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static void Range(List<string> failures, string key, int value, int min, int max, string prefix = Prefix)
    {
        if (value < min || value > max)
        {
            failures.Add($"{prefix}{key} ({value}) must be between {min} and {max}.");
        }
    }

    // A service URL may carry credentials (http://user:password@host/eureka/); never echo them.
    private static string Redact(string url)
    {
        int at = url.IndexOf('@', StringComparison.Ordinal);
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme > 0 && at > scheme ? string.Concat(url.AsSpan(0, scheme + 3), "***", url.AsSpan(at)) : url;
    }
}

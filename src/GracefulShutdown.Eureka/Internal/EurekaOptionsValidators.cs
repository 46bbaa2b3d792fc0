using System.Net;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Eureka.Internal;

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

/// <summary>Validates <c>eureka:instance</c> at start-up; every message names the key and its value.</summary>
internal sealed class EurekaInstanceOptionsValidator : IValidateOptions<EurekaInstanceOptions>
{
    private const string Prefix = EurekaInstanceOptions.SectionName + ":";

    public ValidateOptionsResult Validate(string? name, EurekaInstanceOptions options)
    {
        var failures = new List<string>();
        EurekaClientOptionsValidator.Range(failures, "port", options.Port, 0, 65535, Prefix);
        EurekaClientOptionsValidator.Range(failures, "securePort", options.SecurePort, 0, 65535, Prefix);
        EurekaClientOptionsValidator.Range(failures, "leaseRenewalIntervalInSeconds", options.LeaseRenewalIntervalInSeconds, 1, 3600, Prefix);
        if (options.LeaseExpirationDurationInSeconds <= options.LeaseRenewalIntervalInSeconds)
        {
            failures.Add($"{Prefix}leaseExpirationDurationInSeconds ({options.LeaseExpirationDurationInSeconds}) must be greater than " +
                $"{Prefix}leaseRenewalIntervalInSeconds ({options.LeaseRenewalIntervalInSeconds}), or Eureka evicts the instance between heartbeats.");
        }

        if (options.IpAddress is { } ip && !string.IsNullOrWhiteSpace(ip) && !IPAddress.TryParse(ip.Trim(), out _))
        {
            failures.Add($"{Prefix}ipAddress ('{ip}') is not an IP address.");
        }

        NoWhiteSpace(failures, "appName", options.AppName);
        NoWhiteSpace(failures, "instanceId", options.InstanceId);
        NoWhiteSpace(failures, "hostName", options.HostName);
        Path(failures, "statusPageUrlPath", options.StatusPageUrlPath, required: true);
        Path(failures, "healthCheckUrlPath", options.HealthCheckUrlPath, required: false);
        foreach (string key in options.MetadataMap.Keys)
        {
            if (string.IsNullOrWhiteSpace(key) || key.StartsWith('@'))
            {
                failures.Add($"{Prefix}metadataMap has the key '{key}'; keys must not be empty or start with '@' (Eureka's type markers).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void NoWhiteSpace(List<string> failures, string key, string? value)
    {
        if (value is not null && value.Length > 0 && (string.IsNullOrWhiteSpace(value) || value.Trim().Any(char.IsWhiteSpace)))
        {
            failures.Add($"{Prefix}{key} ('{value}') must not contain white space.");
        }
    }

    private static void Path(List<string> failures, string key, string? value, bool required)
    {
        if (value is null && !required)
        {
            return;
        }

        if (string.IsNullOrEmpty(value) || value[0] != '/' || value.Any(char.IsWhiteSpace))
        {
            failures.Add($"{Prefix}{key} ('{value}') must be a path that starts with '/' and has no white space.");
        }
    }
}

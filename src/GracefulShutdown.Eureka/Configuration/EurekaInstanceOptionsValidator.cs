using System.Net;
using Microsoft.Extensions.Options;

namespace GracefulShutdown.Eureka.Configuration;

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

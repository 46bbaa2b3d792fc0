using Microsoft.Extensions.Options;

namespace GracefulShutdown.RabbitMQ.Hosting;

/// <summary>The consumer's settings, with the key and value in every message.</summary>
internal sealed class RabbitMQConsumerOptionsValidator : IValidateOptions<RabbitMQConsumerOptions>
{
    public ValidateOptionsResult Validate(string? name, RabbitMQConsumerOptions options)
    {
        string section = RabbitMQConsumerOptions.SectionPrefix + name;
        var failures = new List<string>();
        if (options.Url is not { IsAbsoluteUri: true } url || (url.Scheme != "amqp" && url.Scheme != "amqps"))
        {
            failures.Add($"{section}:Url ({options.Url}) must be an absolute amqp:// or amqps:// URL.");
        }

        if (string.IsNullOrWhiteSpace(options.Queue))
        {
            failures.Add($"{section}:Queue is required.");
        }

        if (options.Prefetch is < 1 or > ushort.MaxValue)
        {
            failures.Add($"{section}:Prefetch ({options.Prefetch}) must be from 1 to 65535.");
        }

        if (options.ConnectRetryInterval < TimeSpan.FromMilliseconds(10) || options.ConnectRetryInterval > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{section}:ConnectRetryInterval ({options.ConnectRetryInterval}) must be from 00:00:00.010 to 00:05:00.");
        }

        if (!Enum.IsDefined(options.OnFailure))
        {
            failures.Add($"{section}:OnFailure ({options.OnFailure}) is not a policy.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace GracefulShutdown.Hosting;

// The rules of single settings, checked at start-up by the source-generated options validators ([OptionsValidator]). Each
// message names the full configuration key and the value, as the validator is run with the section path as its name.

/// <summary>A duration between <see cref="Minimum"/> and <see cref="Maximum"/> (one day unless said: timers and sums stay far from overflow).</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class DurationAttribute : SettingAttribute
{
    /// <summary>Gets or sets the smallest value, as a <see cref="TimeSpan"/> string.</summary>
    public string Minimum { get; set; } = "00:00:00";

    /// <summary>Gets or sets the largest value, as a <see cref="TimeSpan"/> string.</summary>
    public string Maximum { get; set; } = "1.00:00:00";

    /// <summary>Gets or sets a value indicating whether <see cref="Minimum"/> itself is too small.</summary>
    public bool MinimumIsExclusive { get; set; }

    protected override string? Check(object value)
    {
        var duration = (TimeSpan)value;
        TimeSpan minimum = TimeSpan.Parse(Minimum, CultureInfo.InvariantCulture);
        TimeSpan maximum = TimeSpan.Parse(Maximum, CultureInfo.InvariantCulture);
        bool tooSmall = MinimumIsExclusive ? duration <= minimum : duration < minimum;
        if (!tooSmall && duration <= maximum)
        {
            return null;
        }

        return minimum > TimeSpan.Zero ? $"({duration}) must be between {Minimum} and {Maximum}."
            : tooSmall && MinimumIsExclusive ? $"({duration}) must be greater than zero."
            : tooSmall ? $"({duration}) must not be negative."
            : $"({duration}) must be at most {Maximum}.";
    }
}

/// <summary>A number between two bounds, both included.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class BetweenAttribute(double minimum, double maximum) : SettingAttribute
{
    protected override string? Check(object value)
    {
        double number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        return number >= minimum && number <= maximum ? null
            : string.Create(CultureInfo.InvariantCulture, $"({value}) must be between {minimum} and {maximum}.");
    }
}

/// <summary>An endpoint path: starts with <c>/</c>, no query, fragment or white space.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class EndpointPathAttribute : SettingAttribute
{
    public override bool RequiresValue => true;

    protected override string? Check(object value) =>
        value is string { Length: > 0 } path && path[0] == '/' && !path.Any(static c => c is '?' or '#' || char.IsWhiteSpace(c)) ? null
            : $"('{value}') must be a path that starts with '/' and has no query, fragment or white space.";
}

/// <summary>Path prefixes, each starting with <c>/</c>.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class PathPrefixesAttribute : SettingAttribute
{
    protected override string? Check(object value)
    {
        foreach (string? prefix in (string?[])value)
        {
            if (string.IsNullOrEmpty(prefix) || prefix[0] != '/')
            {
                return $"('{prefix}') must each start with '/'.";
            }
        }

        return null;
    }
}

/// <summary>A string that, when set, is not empty or white space.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class NotBlankAttribute : SettingAttribute
{
    protected override string? Check(object value) =>
        string.IsNullOrWhiteSpace((string)value) ? "must not be empty or white space when set." : null;
}

/// <summary>A valid HTTP header name.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class HeaderNameAttribute : SettingAttribute
{
    public override bool RequiresValue => true;

    protected override string? Check(object value) =>
        value is string name && !string.IsNullOrWhiteSpace(name) && !name.Any(static c => c <= ' ' || c >= 127 || c == ':') ? null
            : $"('{value}') must be a valid HTTP header name.";
}

/// <summary>An absolute http or https URL.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class HttpUrlAttribute : SettingAttribute
{
    protected override string? Check(object value) =>
        value is Uri { IsAbsoluteUri: true } url && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps) ? null
            : $"('{((Uri)value).OriginalString}') must be an absolute http or https URL, e.g. http://127.0.0.1:15021/healthz/ready.";
}

/// <summary>A rule of one setting whose message starts with the setting's full configuration key.</summary>
internal abstract class SettingAttribute : ValidationAttribute
{
    /// <summary>Gets a value indicating whether a missing (null) value breaks the rule; otherwise null means "not set" and passes.</summary>
    public virtual bool RequiresValue => false;

    /// <summary>Returns what is wrong with the value, after its key (e.g. "(00:00:20) must not be negative."), or null.</summary>
    protected abstract string? Check(object value);

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        string? problem = value is null ? (RequiresValue ? "must be set." : null) : Check(value);
        return problem is null ? ValidationResult.Success : new ValidationResult($"{Key(validationContext)} {problem}");
    }

    /// <summary>The full configuration key: the validators are run with the section path as the options name.</summary>
    private static string Key(ValidationContext context) => context.DisplayName.Replace('.', ':');
}

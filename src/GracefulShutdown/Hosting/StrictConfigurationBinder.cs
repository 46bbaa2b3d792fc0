using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace GracefulShutdown.Hosting;

/// <summary>
/// Binds a configuration section onto options and fails on a key the options do not have: a misspelt setting must not silently
/// fall back to its default. Subsections that another binding claims (an add-on's <c>GracefulShutdown:Grpc</c>, or
/// <c>GracefulShutdown:RabbitMQ:orders</c> inside <c>GracefulShutdown:RabbitMQ</c>) are left to it.
/// </summary>
internal static class StrictConfigurationBinder
{
    public static void Bind(IConfiguration section, object options, IEnumerable<ClaimedSection> claimed, IReadOnlyCollection<string> ignoredKeys)
    {
        // Before binding, so the message names the full key, its value and what was meant (the binder names only a property).
        var unknown = new List<string>();
        FindUnknownKeys(section, options.GetType(), [.. claimed.Select(static c => c.Path)], ignoredKeys, unknown);
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"Unknown configuration key{(unknown.Count > 1 ? "s" : "")}: {string.Join("; ", unknown)}. " +
                "A misspelt setting would otherwise fall back to its default without a word.");
        }

        section.Bind(options);
    }

    private static void FindUnknownKeys(IConfiguration section, Type type, string[] claimed, IReadOnlyCollection<string> ignoredKeys,
        List<string> unknown)
    {
        PropertyInfo[] settings = [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(static p => p.CanWrite || IsCollection(p.PropertyType))];
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (claimed.Contains(child.Path, StringComparer.OrdinalIgnoreCase) || ignoredKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            PropertyInfo? setting = settings.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (setting is null && HoldsClaims(child, claimed))
            {
                FindUnclaimedKeys(child, claimed, unknown);
                continue;
            }

            if (setting is null)
            {
                unknown.Add($"{child.Path} ({Describe(child)}); {type.Name} has {string.Join(", ", settings.Select(static p => p.Name))}");
                continue;
            }

            Type settingType = Nullable.GetUnderlyingType(setting.PropertyType) ?? setting.PropertyType;
            if (settingType.IsClass && settingType != typeof(string) && settingType != typeof(Uri) && !IsCollection(settingType))
            {
                FindUnknownKeys(child, settingType, claimed, [], unknown);
            }
        }
    }

    // A section that is no setting but holds claimed sections (GracefulShutdown:RabbitMQ holds each consumer's
    // GracefulShutdown:RabbitMQ:<name>): only those may be in it, so a misspelt name still fails.
    private static void FindUnclaimedKeys(IConfigurationSection section, string[] claimed, List<string> unknown)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (claimed.Contains(child.Path, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (HoldsClaims(child, claimed))
            {
                FindUnclaimedKeys(child, claimed, unknown);
                continue;
            }

            string prefix = section.Path + ConfigurationPath.KeyDelimiter;
            IEnumerable<string> names = claimed.Where(c => c.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(c => c[prefix.Length..].Split(ConfigurationPath.KeyDelimiter)[0]).Distinct(StringComparer.OrdinalIgnoreCase);
            unknown.Add($"{child.Path} ({Describe(child)}); {section.Path} has {string.Join(", ", names)}");
        }
    }

    private static bool HoldsClaims(IConfigurationSection section, string[] claimed) =>
        claimed.Any(c => c.StartsWith(section.Path + ConfigurationPath.KeyDelimiter, StringComparison.OrdinalIgnoreCase));

    private static string Describe(IConfigurationSection child) => child.Value is null ? "a section"
        : LooksSecret(child.Key) ? "value not shown" : string.Create(CultureInfo.InvariantCulture, $"'{child.Value}'");

    // Arrays, lists and dictionaries take whatever keys they are given.
    private static bool IsCollection(Type type) => type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type);

    // A misspelt PreStop:Token must not put the token into the start-up error (and so into the logs).
    private static bool LooksSecret(string key) =>
        key.Contains("tok", StringComparison.OrdinalIgnoreCase) || key.Contains("secret", StringComparison.OrdinalIgnoreCase) ||
        key.Contains("pass", StringComparison.OrdinalIgnoreCase) || key.Contains("key", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A configuration section bound by its own strict binding, which an enclosing one leaves alone.</summary>
internal sealed record ClaimedSection(string Path);

using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace GracefulShutdown.Hosting;

/// <summary>
/// Binds the <c>GracefulShutdown</c> section, failing on unknown keys (a typo must not silently fall back to a default), except
/// for the subsections add-on packages bind themselves (<c>GracefulShutdown:Grpc</c>).
/// </summary>
internal static class AddOnSections
{
    public static void Bind(IConfiguration section, GracefulShutdownOptions options)
    {
        // Before binding, so the message names the full key, its value and what was meant (the binder names only a property).
        var unknown = new List<string>();
        FindUnknownKeys(section, typeof(Shape), unknown);
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"Unknown configuration key{(unknown.Count > 1 ? "s" : "")}: {string.Join("; ", unknown)}. " +
                "A misspelt setting would otherwise fall back to its default without a word.");
        }

        var shape = new Shape();
        section.Bind(shape, static binder => binder.ErrorOnUnknownConfiguration = true);

        // The binder filled a fresh instance; copy what it set (every public property) onto the options being configured.
        foreach (PropertyInfo property in typeof(GracefulShutdownOptions).GetProperties())
        {
            if (property.CanWrite && property.GetIndexParameters().Length == 0 && section.GetSection(property.Name).Exists())
            {
                property.SetValue(options, property.GetValue(shape));
            }
        }
    }

    private static void FindUnknownKeys(IConfiguration section, Type type, List<string> unknown)
    {
        PropertyInfo[] settings = [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(static p => p.CanWrite)];
        foreach (IConfigurationSection child in section.GetChildren())
        {
            PropertyInfo? setting = settings.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (setting is null)
            {
                string value = child.Value is null ? "a section"
                    : LooksSecret(child.Key) ? "value not shown" : string.Create(CultureInfo.InvariantCulture, $"'{child.Value}'");
                unknown.Add($"{child.Path} ({value}); {(type == typeof(Shape) ? nameof(GracefulShutdownOptions) : type.Name)} " +
                    $"has {string.Join(", ", settings.Select(static p => p.Name))}");
                continue;
            }

            Type settingType = Nullable.GetUnderlyingType(setting.PropertyType) ?? setting.PropertyType;
            if (settingType.IsClass && settingType != typeof(string) && settingType != typeof(Uri) && !settingType.IsArray &&
                !typeof(IConfiguration).IsAssignableFrom(settingType))
            {
                FindUnknownKeys(child, settingType, unknown);
            }
        }
    }

    // A misspelt PreStop:Token must not put the token into the start-up error (and so into the logs).
    private static bool LooksSecret(string key) =>
        key.Contains("tok", StringComparison.OrdinalIgnoreCase) || key.Contains("secret", StringComparison.OrdinalIgnoreCase) ||
        key.Contains("pass", StringComparison.OrdinalIgnoreCase) || key.Contains("key", StringComparison.OrdinalIgnoreCase);

    /// <summary>The options plus the add-ons' subsections, which the binder then knows and leaves alone.</summary>
    private sealed class Shape : GracefulShutdownOptions
    {
        public IConfigurationSection? Grpc { get; set; }
    }
}

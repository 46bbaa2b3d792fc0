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
        var shape = new Shape();
        section.Bind(shape, static binder => binder.ErrorOnUnknownConfiguration = true);

        // The binder filled a fresh instance; copy what it set (every public property) onto the options being configured.
        foreach (System.Reflection.PropertyInfo property in typeof(GracefulShutdownOptions).GetProperties())
        {
            if (property.CanWrite && property.GetIndexParameters().Length == 0 && section.GetSection(property.Name).Exists())
            {
                property.SetValue(options, property.GetValue(shape));
            }
        }
    }

    /// <summary>The options plus the add-ons' subsections, which the binder then knows and leaves alone.</summary>
    private sealed class Shape : GracefulShutdownOptions
    {
        public IConfigurationSection? Grpc { get; set; }
    }
}

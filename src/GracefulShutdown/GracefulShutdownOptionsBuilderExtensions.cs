using GracefulShutdown.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Strict configuration binding, the one style every GracefulShutdown package binds its options with.
/// </summary>
public static class GracefulShutdownOptionsBuilderExtensions
{
    /// <summary>
    /// Binds the options from the configuration section at <paramref name="sectionPath"/>, and fails when the section has a key the
    /// options do not have: the error names the full key, its value (hidden for token-like keys) and the settings there are.
    /// </summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="builder">The options builder.</param>
    /// <param name="sectionPath">The section, e.g. <c>GracefulShutdown:Grpc</c>. A section bound this way inside another strictly bound
    /// section (<c>GracefulShutdown</c>) is left to this binding.</param>
    /// <param name="ignoredKeys">Keys directly in the section that are accepted and ignored (another client's settings that this one
    /// does not use), with everything under them.</param>
    /// <returns>The value of <paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="sectionPath"/> is empty or white space.</exception>
    public static OptionsBuilder<TOptions> BindStrictly<TOptions>(this OptionsBuilder<TOptions> builder, string sectionPath,
        params string[] ignoredKeys) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        ArgumentNullException.ThrowIfNull(ignoredKeys);
        builder.Services.AddSingleton(new ClaimedSection(sectionPath));
        string[] ignored = [.. ignoredKeys];
        return builder.Configure<IConfiguration, IEnumerable<ClaimedSection>>((options, configuration, claimed) =>
            StrictConfigurationBinder.Bind(configuration.GetSection(sectionPath), options,
                claimed.Where(c => !string.Equals(c.Path, sectionPath, StringComparison.OrdinalIgnoreCase)), ignored));
    }
}

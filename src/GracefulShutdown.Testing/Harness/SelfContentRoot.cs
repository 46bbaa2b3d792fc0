using System.Reflection;

namespace GracefulShutdown.Testing.Harness;

/// <summary>
/// An app that rolls itself out (its own process runs <c>Rollout.RunAsync&lt;Program&gt;</c>, as a smoke test or a console check
/// does) has no test project, so no <c>MvcTestingAppManifest.json</c> tells <c>WebApplicationFactory</c> its content root, and the
/// factory would search for a solution folder. Its content root is then its own output folder, where its <c>appsettings</c> are,
/// through the setting the factory reads first (<c>ASPNETCORE_TEST_CONTENTROOT_&lt;ASSEMBLY&gt;</c>), unless it is set already.
/// </summary>
internal static class SelfContentRoot
{
    public static void EnsureFor(Assembly app)
    {
        if (Assembly.GetEntryAssembly() != app || app.GetName().Name is not string name)
        {
            return;
        }

        string variable = "ASPNETCORE_TEST_CONTENTROOT_" + name.ToUpperInvariant().Replace('.', '_');
        if (Environment.GetEnvironmentVariable(variable) is null)
        {
            Environment.SetEnvironmentVariable(variable, AppContext.BaseDirectory);
        }
    }
}

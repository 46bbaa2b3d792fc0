using GracefulShutdown;
using GracefulShutdown.Testing.TestApp;
using Microsoft.Extensions.Diagnostics.HealthChecks;

// One app, three ways to get a rollout wrong or right, chosen by configuration (RolloutOptions.ConfigureReplica sets them):
//   TestApp:UseLibrary=false        a plain ASP.NET Core app
//   GET /slow?ms=N                  a handler that ignores DrainDeadline and RequestAborted: it outlives any drain shorter than N
//   TestApp:DependencyCheck=true    a readiness check (tagged ready) on a dependency every replica shares, which goes down for
//                                   TestApp:OutageMs when the first drain in the process begins (a replica leaving takes the
//                                   dependency with it, e.g. it held its lease): every replica turns unready at once
var builder = WebApplication.CreateBuilder(args);
bool useLibrary = builder.Configuration.GetValue("TestApp:UseLibrary", true);
if (useLibrary)
{
    builder.Services.AddGracefulShutdown();
}

if (builder.Configuration.GetValue("TestApp:DependencyCheck", false))
{
    builder.Services.AddHealthChecks().AddCheck("shared-dependency",
        () => SharedDependency.IsDown ? HealthCheckResult.Unhealthy("the shared dependency is down") : HealthCheckResult.Healthy(),
        tags: [GracefulShutdownTags.Ready]);
}

var app = builder.Build();
if (useLibrary && app.Configuration.GetValue("TestApp:DependencyCheck", false))
{
    int outageMs = app.Configuration.GetValue("TestApp:OutageMs", 3000);
    app.Services.GetRequiredService<IGracefulShutdown>().DrainStarted.Register(() => SharedDependency.GoDown(TimeSpan.FromMilliseconds(outageMs)));
}

app.MapGet("/", () => "test app\n");
app.MapGet("/slow", async (int ms) =>
{
    // The mistake: no DrainDeadline, no RequestAborted; the work runs on whatever happens to the server.
    await Task.Delay(ms, CancellationToken.None);
    return $"slept {ms} ms\n";
});
app.Run();

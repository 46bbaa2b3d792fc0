using GracefulShutdown;
using GracefulShutdown.Sample;

var builder = WebApplication.CreateBuilder(args);

// Sample:UseLibrary=false runs the same app without the library: the "plain ASP.NET Core" baseline of the rollout benchmark.
bool useLibrary = builder.Configuration.GetValue("Sample:UseLibrary", true);
if (useLibrary)
{
    // The one line a service needs, then optional extras: Eureka (off unless eureka:client:serviceUrl is set), Kubernetes
    // (off unless POD_NAME is set, as the downward API does in samples/k8s/deployment.yaml: a developer's kubeconfig is never
    // used by a local run), warm-up
    // requests so the first real caller does not pay for routing and JIT, and a start-up gate standing in for cache warm-up.
    builder.Services.AddGracefulShutdown()
        .AddEureka()
        .AddKubernetes()
        .AddWarmupRequests("/", "/work?ms=0")
        .AddStartupGate("cache", static async (services, cancellationToken) =>
        {
            int warmupMs = services.GetRequiredService<IConfiguration>().GetValue("Sample:WarmupMs", 0);
            await Task.Delay(warmupMs, cancellationToken);
        });
}

// Long-lived connections: a WebSocket echo, server-sent events, a long poll and a SignalR hub (see LongLivedEndpoints.cs).
builder.Services.AddSignalR();

// A message consumer that finishes the message in hand before the host stops (see OrdersConsumer.cs).
builder.Services.AddSingleton<OrderQueue>();
builder.Services.AddHostedService<OrdersConsumer>();
if (builder.Configuration.GetValue("Sample:TokenBoundStopWork", false))
{
    builder.Services.AddHostedService<TokenBoundStopWork>();
}

var app = builder.Build();

// Simulates start-up work before the host runs (e.g. database migrations). A SIGTERM now would kill a plain
// .NET 10 app with exit code 143; with the library the app stops in order once the host has started.
int startupWorkMs = app.Configuration.GetValue("Sample:StartupWorkMs", 0);
if (startupWorkMs > 0)
{
    Console.WriteLine($"Sample: start-up work running for {startupWorkMs} ms");
    await Task.Delay(startupWorkMs);
    Console.WriteLine("Sample: start-up work done");
}

app.MapGet("/", () => "Hello from GracefulShutdown.Sample\n");

// Debug-level line (off by default) that tests wait on to know a request is being served.
ILogger workLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GracefulShutdown.Sample.Work");

// GET /work?ms=N simulates N ms of work. Long work links the drain deadline, so it can end on its own terms
// before the drain timeout aborts it.
app.MapGet("/work", async (string? ms, HttpContext context) =>
{
    int duration = 0;
    if (ms is not null && (!int.TryParse(ms, out duration) || duration is < 0 or > 600_000))
    {
        return Results.Problem($"Query parameter 'ms' must be a whole number of milliseconds from 0 to 600000; it was '{ms}'.",
            statusCode: StatusCodes.Status400BadRequest);
    }

    workLog.LogDebug("Work of {Duration} ms started", duration);
    CancellationToken drainDeadline = context.RequestServices.GetService<IGracefulShutdown>()?.DrainDeadline ?? CancellationToken.None;
    using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, drainDeadline);
    try
    {
        await Task.Delay(duration, linked.Token);
    }
    catch (OperationCanceledException) when (drainDeadline.IsCancellationRequested)
    {
        context.Response.Headers.RetryAfter = "1";
        return Results.Problem("The work was cut short by the drain deadline; retry on another replica.",
            statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    return Results.Text($"worked {duration} ms\n");
});

app.UseWebSockets();
app.MapLongLivedEndpoints();

// POST /orders?ms=N queues an order that takes N ms to handle.
app.MapPost("/orders", (string? ms, OrderQueue queue) =>
{
    if (ms is null || !int.TryParse(ms, out int duration) || duration is < 0 or > 600_000)
    {
        return Results.Problem($"Query parameter 'ms' must be a whole number of milliseconds from 0 to 600000; it was '{ms}'.",
            statusCode: StatusCodes.Status400BadRequest);
    }

    return Results.Accepted(value: new { id = queue.Enqueue(duration) });
});

app.Run();

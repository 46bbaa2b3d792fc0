using GracefulShutdown.GrpcSample;

var builder = WebApplication.CreateBuilder(args);

// Sample:UseLibrary=false runs the same gRPC service without the library (the standard Grpc.AspNetCore.HealthChecks setup):
// the "plain ASP.NET Core" baseline of the gRPC rollout benchmark.
bool useLibrary = builder.Configuration.GetValue("Sample:UseLibrary", true);
builder.Services.AddGrpc();
if (useLibrary)
{
    // The HTTP sample's setup, plus the gRPC add-on: the health service follows the lifecycle and streams end retryably.
    builder.Services.AddGracefulShutdown()
        .AddGrpc()
        .AddStartupGate("cache", static async (services, cancellationToken) =>
        {
            int warmupMs = services.GetRequiredService<IConfiguration>().GetValue("Sample:WarmupMs", 0);
            await Task.Delay(warmupMs, cancellationToken);
        });
}
else
{
    builder.Services.AddGrpcHealthChecks();
}

var app = builder.Build();

app.MapGrpcService<GreeterService>();

// The standard mapping of grpc.health.v1.Health; with the library it answers for the lifecycle.
app.MapGrpcHealthChecksService();

app.Run();

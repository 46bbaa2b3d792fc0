var builder = WebApplication.CreateBuilder(args);
builder.Services.AddGracefulShutdown();

var app = builder.Build();
app.MapGet("/", () => "consumer of the GracefulShutdown package\n");
app.Run();

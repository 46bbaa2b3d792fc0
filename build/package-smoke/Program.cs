using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

// build/package-smoke.sh runs "PackageConsumer --check-types <assembly>..." on the assemblies taken out of the packages:
// it lists every type whose name says it belongs in tests, and fails if there is one. GracefulShutdown.Testing is test support by
// design: its namespace says so, so only its type names are read.
if (args is ["--check-types", .. var assemblies])
{
    int found = 0;
    foreach (string path in assemblies)
    {
        using var pe = new PEReader(File.OpenRead(path));
        MetadataReader metadata = pe.GetMetadataReader();
        foreach (TypeDefinitionHandle handle in metadata.TypeDefinitions)
        {
            TypeDefinition type = metadata.GetTypeDefinition(handle);
            string name = Path.GetFileName(path) == "GracefulShutdown.Testing.dll"
                ? metadata.GetString(type.Name)
                : $"{metadata.GetString(type.Namespace)}.{metadata.GetString(type.Name)}";
            if (name.Contains("Test", StringComparison.Ordinal) || name.Contains("Fake", StringComparison.Ordinal))
            {
                Console.WriteLine($"{Path.GetFileName(path)}: test-only type {name}");
                found++;
            }
        }
    }

    return found == 0 ? 0 : 1;
}

// "PackageConsumer --worker [configuration…]": a Worker Service (no web server of its own) with a RabbitMQ consumer, as a user of
// GracefulShutdown.RabbitMQ writes it; the smoke runs it with bad options (start-up fails naming key and value) and with a broker
// that is down (not ready, live, exit code 0 after SIGTERM).
if (args is ["--worker", .. var workerArgs])
{
    HostApplicationBuilder worker = Host.CreateApplicationBuilder(workerArgs);
    worker.Services.AddGracefulShutdown().AddRabbitMQConsumer("orders", static (_, delivery, _) =>
    {
        Console.WriteLine($"received {delivery.Body.Length} bytes");
        return Task.CompletedTask;
    });
    await worker.Build().RunAsync();
    return 0;
}

var builder = WebApplication.CreateBuilder(args);
if (builder.Configuration.GetValue("Consumer:UseLibrary", true))
{
    builder.Services.AddGracefulShutdown()
        .AddEureka() // Eureka stays off: eureka:client:serviceUrl is not set
        .AddGrpc()
        .AddKubernetes(); // off outside a pod: POD_NAME is not set
}
else
{
    builder.Services.AddGrpc();
    builder.Services.AddGrpcHealthChecks();
}

var app = builder.Build();
app.MapGet("/", () => "consumer of the GracefulShutdown packages\n");
app.MapGrpcHealthChecksService();
app.Run();
return 0;

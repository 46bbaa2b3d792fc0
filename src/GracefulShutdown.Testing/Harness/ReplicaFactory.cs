using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace GracefulShutdown.Testing.Harness;

/// <summary>
/// One replica's host: the user's entry point started exactly as <see cref="WebApplicationFactory{TEntryPoint}"/> starts it (the app's
/// own Program runs, with its configuration, services and middleware), on real Kestrel bound to 127.0.0.1, port 0.
/// </summary>
internal sealed class ReplicaFactory<TEntryPoint> : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    private readonly Action<IWebHostBuilder>? _configure;

    public ReplicaFactory(Action<IWebHostBuilder>? configure)
    {
        _configure = configure;
        UseKestrel(static kestrel => kestrel.Listen(IPAddress.Loopback, 0));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder) => _configure?.Invoke(builder);
}

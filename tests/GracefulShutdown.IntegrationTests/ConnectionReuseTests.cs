using System.Net;
using System.Net.Sockets;

namespace GracefulShutdown.IntegrationTests;

/// <summary>Pooled keep-alive clients are told to reconnect elsewhere once the drain begins: HTTP/1.1 and HTTP/2.</summary>
[Trait("Category", "Process")]
[Collection(ProcessCollection.Name)]
public sealed class ConnectionReuseTests
{
    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task Draining_PooledClient_OpensANewConnectionForItsNextRequest(string httpVersion)
    {
        var version = Version.Parse(httpVersion);
        string[] arguments =
        [
            "--GracefulShutdown:TrafficWait:Minimum=00:01:00",
            "--GracefulShutdown:TrafficWait:Maximum=00:01:30",
            "--GracefulShutdown:TerminationGracePeriod=00:03:00",
            .. version.Major == 2 ? ["--Kestrel:EndpointDefaults:Protocols=Http2"] : Array.Empty<string>(),
        ];
        await using SampleProcess app = await SampleProcess.StartAsync(arguments);
        int connections = 0;
        using var client = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        {
            BaseAddress = app.BaseAddress,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        for (int i = 0; i < 3; i++)
        {
            HttpResponseMessage warm = await client.GetAsync("");
            Assert.Equal(version, warm.Version);
        }

        Assert.Equal(1, connections);

        app.Signal(SampleProcess.SIGTERM);
        await app.WaitForEventAsync(100, "SigTerm");
        HttpResponseMessage first = await client.GetAsync("");
        int afterFirst = connections;
        HttpResponseMessage second = await client.GetAsync("");

        // The first request still rides the pooled connection and is served; its answer closes that connection,
        // so the second one has to connect again (in a cluster: to a replica that is still in rotation).
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(version, second.Version);
        Assert.Equal(1, afterFirst);
        Assert.Equal(2, connections);

        app.Signal(SampleProcess.SIGTERM);
        Assert.Equal(0, await app.WaitForExitAsync());
    }
}

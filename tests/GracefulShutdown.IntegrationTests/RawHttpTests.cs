using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// Hostile bytes on a raw socket to the sample on real Kestrel (Kubernetes mode, preStop token set): HTTP/1.0, pipelining,
/// huge and repeated headers, malformed framing. Every answer is 4xx or the normal probe answer, never 5xx, and nothing
/// drains. (The per-endpoint table with TestServer is HostileInputTests in the unit tests.)
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class RawHttpTests(RawHttpTests.App fixture, ITestOutputHelper output) : IClassFixture<RawHttpTests.App>
{
    private const string Token = "raw-s3cret";
    private static readonly string Huge = new('x', 100 * 1024);

    /// <summary>One sample process for the table; each case checks that it is still running and ready.</summary>
    public sealed class App : IAsyncLifetime
    {
        internal SampleProcess Process { get; private set; } = null!;

        public async Task InitializeAsync() =>
            Process = await SampleProcess.StartAsync(
            [
                $"--GracefulShutdown:PreStop:Token={Token}",
                "--GracefulShutdown:TrafficWait:Minimum=00:00:00.300",
                "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.300",
                "--GracefulShutdown:TrafficWait:Maximum=00:00:03",
            ], new Dictionary<string, string> { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1" });

        public async Task DisposeAsync()
        {
            Process.Signal(SampleProcess.SIGTERM);
            await Process.WaitForExitAsync();
            await Process.DisposeAsync();
        }
    }

    /// <summary>Case name → (raw request bytes, expected status of each answer; 0 = any 4xx).</summary>
    private static readonly Dictionary<string, (string Request, int[] Expected)> Cases = new()
    {
        ["HTTP/1.0 readiness"] = ("GET /health/ready HTTP/1.0\r\n\r\n", [200]),
        ["HTTP/1.0 liveness"] = ("GET /health/live HTTP/1.0\r\n\r\n", [200]),
        ["HTTP/1.0 startup"] = ("GET /health/startup HTTP/1.0\r\n\r\n", [200]),
        ["HTTP/1.0 HEAD readiness"] = ("HEAD /health/ready HTTP/1.0\r\n\r\n", [200]),
        ["HTTP/1.0 preStop without token"] = ("GET /lifecycle/prestop?wait=false HTTP/1.0\r\n\r\n", [403]),
        ["HTTP/1.0 keep-alive, two requests"] = (
            "GET /health/ready HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
            "GET /lifecycle/prestop HTTP/1.0\r\nX-PreStop-Token: nope\r\n\r\n", [200, 403]),
        ["pipelined probes and wrong-token preStops"] = (
            "GET /health/ready HTTP/1.1\r\nHost: pod\r\n\r\n" +
            "GET /lifecycle/prestop?wait=false HTTP/1.1\r\nHost: pod\r\nX-PreStop-Token: wrong\r\n\r\n" +
            "GET /lifecycle/prestop?wait=false HTTP/1.1\r\nHost: pod\r\n\r\n" +
            "GET /lifecycle/prestop?wait=false&wait=true HTTP/1.1\r\nHost: pod\r\nX-PreStop-Token: " + Token + "\r\n\r\n" +
            "POST /lifecycle/prestop HTTP/1.1\r\nHost: pod\r\nContent-Length: 0\r\nX-PreStop-Token: " + Token + "\r\n\r\n" +
            "GET /health/live HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n", [200, 403, 403, 400, 405, 200]),
        ["pipelined, 50 readiness probes"] = (
            string.Concat(Enumerable.Repeat("GET /health/ready HTTP/1.1\r\nHost: pod\r\n\r\n", 49)) +
            "GET /health/ready HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n", [.. Enumerable.Repeat(200, 50)]),
        ["token header twice"] = (
            $"GET /lifecycle/prestop?wait=false HTTP/1.1\r\nHost: pod\r\nX-PreStop-Token: {Token}\r\nX-PreStop-Token: {Token}\r\nConnection: close\r\n\r\n", [400]),
        ["token with a folded continuation"] = (
            $"GET /lifecycle/prestop?wait=false HTTP/1.1\r\nHost: pod\r\nX-PreStop-Token: wrong\r\n {Token}\r\nConnection: close\r\n\r\n", [0]),
        ["token in the request target"] = ($"GET /lifecycle/prestop/{Token} HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n", [404]),
        ["absolute-form target"] = ("GET http://127.0.0.1/lifecycle/prestop?wait=false HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", [403]),
        ["encoded slash in the path"] = ("GET /lifecycle%2Fprestop?wait=false HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n", [404]),
        ["GET with a body"] = ("GET /lifecycle/prestop?wait=false HTTP/1.1\r\nHost: pod\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", [403]),
        ["GET with a chunked body"] = (
            "GET /lifecycle/prestop?wait=false HTTP/1.1\r\nHost: pod\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n", [403]),
        ["huge header"] = ($"GET /health/ready HTTP/1.1\r\nHost: pod\r\nX-Filler: {Huge}\r\n\r\n", [431]),
        ["huge token"] = ($"GET /lifecycle/prestop HTTP/1.1\r\nHost: pod\r\nX-PreStop-Token: {Huge}\r\n\r\n", [431]),
        ["200 repeated headers"] = (
            "GET /health/ready HTTP/1.1\r\nHost: pod\r\n" + string.Concat(Enumerable.Repeat("X-Repeated: 1\r\n", 200)) + "\r\n", [431]),
        ["huge request target"] = ($"GET /lifecycle/prestop?wait={Huge} HTTP/1.1\r\nHost: pod\r\n\r\n", [414]),
        ["HTTP/1.1 without Host"] = ("GET /lifecycle/prestop?wait=false HTTP/1.1\r\nConnection: close\r\n\r\n", [400]),
        ["two Host headers"] = ("GET /health/ready HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n", [400]),
        ["garbage request line"] = ("\u0001\u0002GARBAGE\r\n\r\n", [400]),
        ["HTTP/0.9"] = ("GET /lifecycle/prestop\r\n\r\n", [400]),
        ["NUL in a header value"] = ("GET /lifecycle/prestop HTTP/1.1\r\nHost: pod\r\nX-PreStop-Token: a\0b\r\n\r\n", [400]),
        ["bare LF line endings"] = ("GET /health/ready HTTP/1.1\nHost: pod\nConnection: close\n\n", [200]),
        ["conflicting Content-Length"] = ("GET /lifecycle/prestop HTTP/1.1\r\nHost: pod\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", [400]),
        ["made-up method"] = ("FROBNICATE /lifecycle/prestop HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n", [0]),
        ["lower-case method"] = ("get /lifecycle/prestop HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n", [0]),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task RawRequest_Answers4xxOrTheNormalAnswer_Never5xx_AndNothingDrains(string name)
    {
        SampleProcess app = fixture.Process;
        (string request, int[] expected) = Cases[name];

        string response = await SendRawAsync(app.BaseAddress!.Port, request);
        int[] statuses = [.. StatusLine().Matches(response).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];
        output.WriteLine($"{name}: {string.Join(", ", statuses)}");

        Assert.DoesNotContain(statuses, s => s >= 500);
        Assert.Equal(expected.Length, statuses.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] == 0)
            {
                Assert.InRange(statuses[i], 400, 499);
            }
            else
            {
                Assert.Equal(expected[i], statuses[i]);
            }
        }

        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("health/ready")).StatusCode);
        Assert.Equal(0, app.CountEvents(100));
    }

    /// <summary>Writes the bytes, then reads until the server closes the connection (every case ends with a close).</summary>
    private static async Task<string> SendRawAsync(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        try
        {
            await socket.SendAsync(Encoding.Latin1.GetBytes(request), timeout.Token);
        }
        catch (SocketException)
        {
            // The server may answer and close before it has read all of a huge request.
        }

        var received = new StringBuilder();
        byte[] buffer = new byte[65536];
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, timeout.Token);
            }
            catch (SocketException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            received.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }

        return received.ToString();
    }

    // Not anchored: a pipelined answer follows the previous body ("Ready") without a line break.
    [GeneratedRegex(@"HTTP/1\.[01] (\d{3}) ")]
    private static partial Regex StatusLine();
}

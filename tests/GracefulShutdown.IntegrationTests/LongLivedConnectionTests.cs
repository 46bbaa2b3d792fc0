using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Xunit.Abstractions;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// WebSockets, server-sent events, long polls and SignalR through SIGTERM, with the sample as a real process and the real clients:
/// they stay served during the traffic wait, then end cleanly (WebSockets with 1001) before ApplicationStopping and the server drain.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed partial class LongLivedConnectionTests(ITestOutputHelper output)
{
    private const string ApplicationStoppingLine = "Sample: ApplicationStopping fired";
    private static readonly TimeSpan CloseWindow = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static readonly string[] FastWait =
    [
        "--GracefulShutdown:TrafficWait:Minimum=00:00:00.300",
        "--GracefulShutdown:TrafficWait:QuietPeriod=00:00:00.300",
        "--GracefulShutdown:TrafficWait:Maximum=00:00:03",
    ];

    private static readonly string[] FastWaitOneSecondWindow = [.. FastWait, "--GracefulShutdown:Connections:CloseWindow=00:00:01"];

    // A wait that outlasts every test timeout: a second SIGTERM ends it when the test has seen what it needs.
    private static readonly string[] EndlessWait =
    [
        "--GracefulShutdown:TrafficWait:Minimum=00:01:00",
        "--GracefulShutdown:TrafficWait:Maximum=00:01:30",
        "--GracefulShutdown:TerminationGracePeriod=00:03:00",
        "--GracefulShutdown:Connections:CloseWindow=00:00:01",
    ];

    [Fact]
    public async Task SigTerm_WebSocketConnected_ReceivesGoingAwayBeforeExit_AndTheSequenceEndsWithinCloseWindowPlusOneSecondOfTheWait()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWaitOneSecondWindow);
        using ClientWebSocket socket = await ConnectWebSocketAsync(app);
        Assert.Equal("hello", await EchoAsync(socket, "hello"));
        Task<int> exited = app.WaitForExitAsync(Timeout);

        app.Signal(SampleProcess.SIGTERM);
        using var receiveTimeout = new CancellationTokenSource(Timeout);
        ValueWebSocketReceiveResult received = await socket.ReceiveAsync(new byte[1024].AsMemory(), receiveTimeout.Token);
        bool exitedBeforeTheClose = exited.IsCompleted;
        DateTime closeSeen = DateTime.Now;
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", receiveTimeout.Token);
        int exitCode = await exited;
        DateTime exitSeen = DateTime.Now;

        // The app's own log timestamps (wall clock, like DateTime.Now here): when the wait ended, against when this test saw the
        // close and the exit (which is after they happened, so the measure errs on the long side).
        string waitEnded = Line(app, 102);
        string sequenceEnded = Line(app, 106);
        TimeSpan closeAfterWait = Since(waitEnded, closeSeen);
        TimeSpan exitAfterWait = Since(waitEnded, exitSeen);
        TimeSpan sequenceAfterWait = Since(waitEnded, sequenceEnded);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.False(exitedBeforeTheClose);
        IReadOnlyList<string> lines = app.Lines;
        int closing = SampleProcess.IndexOfEvent(lines, 120);
        Assert.True(closing > SampleProcess.IndexOfEvent(lines, 102), app.Output);
        Assert.Equal(1, LoggedCount(lines[closing]));
        Assert.Equal(0, exitCode);

        // Nothing waited for a deadline: the socket closed cleanly (no abort, 122) and the server drain aborted nothing (105).
        Assert.False(app.HasEvent(122), app.Output);
        Assert.False(app.HasEvent(105), app.Output);

        // The bound of the issue, on the app's own clock: from the wait's end to the end of the shutdown sequence (the close,
        // ApplicationStopping, the server drain) within the close window + 1 s. What follows (the runtime tearing the process
        // down, this test's thread pool noticing) is not the library's and is noisy on a loaded 2-core machine, so the exit as
        // seen here is only held to the drain timeout (10 s) that an unclosed socket would have run into; the benchmark
        // (build/rollout/longlived.sh) measures exit times on a quiet machine.
        Assert.True(sequenceAfterWait <= CloseWindow + TimeSpan.FromSeconds(1),
            $"The shutdown sequence ended {sequenceAfterWait.TotalMilliseconds:F0} ms after the traffic wait; expected at most the " +
            $"close window ({CloseWindow.TotalMilliseconds:F0} ms) + 1000 ms.\n{app.Output}");
        Assert.True(exitAfterWait < TimeSpan.FromSeconds(10),
            $"Exit came {exitAfterWait.TotalMilliseconds:F0} ms after the traffic wait ended, as late as the drain timeout.\n{app.Output}");
        output.WriteLine($"traffic wait ended → 1001 seen by the client {closeAfterWait.TotalMilliseconds:F0} ms → shutdown sequence " +
            $"complete {sequenceAfterWait.TotalMilliseconds:F0} ms → exit seen {exitAfterWait.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task SigTerm_WebSocket_IsServedDuringTheWait_AndClosedWith1001OnlyAfterIt()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(EndlessWait);
        using ClientWebSocket socket = await ConnectWebSocketAsync(app);
        Assert.Equal("before", await EchoAsync(socket, "before"));

        app.Signal(SampleProcess.SIGTERM);
        await app.WaitForEventAsync(100, "SigTerm");
        string during = await EchoAsync(socket, "during the wait");
        WebSocketState stateDuringTheWait = socket.State;
        int waitEndedDuringTheWait = app.CountEvents(102);
        app.Signal(SampleProcess.SIGTERM);
        using var receiveTimeout = new CancellationTokenSource(Timeout);
        ValueWebSocketReceiveResult received = await socket.ReceiveAsync(new byte[1024].AsMemory(), receiveTimeout.Token);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", receiveTimeout.Token);

        Assert.Equal("during the wait", during);
        Assert.Equal(WebSocketState.Open, stateDuringTheWait);
        Assert.Equal(0, waitEndedDuringTheWait);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.Equal(0, await app.WaitForExitAsync());
    }

    [Fact]
    public async Task SigTerm_ApplicationStoppingFiresAfterTheTrafficWait()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWaitOneSecondWindow);
        using ClientWebSocket socket = await ConnectWebSocketAsync(app);

        app.Signal(SampleProcess.SIGTERM);
        using var receiveTimeout = new CancellationTokenSource(Timeout);
        ValueWebSocketReceiveResult received = await socket.ReceiveAsync(new byte[1024].AsMemory(), receiveTimeout.Token);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", receiveTimeout.Token);
        Assert.Equal(0, await app.WaitForExitAsync());

        // One process, one console logger queue: the order of its lines is the order of the events.
        IReadOnlyList<string> lines = app.Lines;
        int drainStarted = SampleProcess.IndexOfEvent(lines, 100, "SigTerm");
        int waitEnded = SampleProcess.IndexOfEvent(lines, 102);
        int closed = SampleProcess.IndexOfEvent(lines, 121);
        int stopping = IndexOfApplicationStopping(lines);
        int serverDrain = SampleProcess.IndexOfEvent(lines, 103);
        Assert.Equal(WebSocketMessageType.Close, received.MessageType);
        Assert.True(drainStarted >= 0 && waitEnded > drainStarted, "Expected [100] then [102].\n" + app.Output);
        Assert.True(closed > waitEnded, "The WebSocket must be closed after the traffic wait.\n" + app.Output);
        Assert.Equal(1, LoggedCount(lines[closed]));
        Assert.True(stopping > closed, "ApplicationStopping must fire after the WebSockets were closed.\n" + app.Output);
        Assert.True(serverDrain > stopping, "The server drain must begin after ApplicationStopping.\n" + app.Output);
    }

    [Fact]
    public async Task SigTerm_ServerSentEvents_StreamEndsCleanlyWithARetryHint_BeforeExit()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        using HttpResponseMessage response = await client.GetAsync("sse", HttpCompletionOption.ResponseHeadersRead);
        await using Stream stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        Assert.Equal("id: 1", await reader.ReadLineAsync());
        Task<int> exited = app.WaitForExitAsync(Timeout);

        app.Signal(SampleProcess.SIGTERM);
        using var readTimeout = new CancellationTokenSource(Timeout);
        string rest = await reader.ReadToEndAsync(readTimeout.Token);
        bool exitedBeforeTheEnd = exited.IsCompleted;

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("retry: 1000", rest, StringComparison.Ordinal);
        Assert.EndsWith("data: this replica is going away; reconnect\n\n", rest, StringComparison.Ordinal);
        Assert.False(exitedBeforeTheEnd);
        Assert.Equal(0, await exited);
        Assert.True(app.HasEvent(102), app.Output);
    }

    [Fact]
    public async Task SigTerm_LongPoll_AnswersWhenTheWaitIsOver()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(FastWait);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        Task<HttpResponseMessage> poll = client.GetAsync("poll?ms=60000");
        await app.WaitForLineAsync(l => l.Contains("Long poll of 60000 ms started", StringComparison.Ordinal));

        app.Signal(SampleProcess.SIGTERM);
        using HttpResponseMessage response = await poll;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no news; poll again\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await app.WaitForExitAsync());
    }

    [Fact]
    public async Task SigTerm_SignalRClient_StaysConnectedDuringTheWait_ThenIsClosedCleanlyAndReconnects()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(EndlessWait);
        var reconnecting = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using HubConnection hub = new HubConnectionBuilder()
            .WithUrl(new Uri(app.BaseAddress!, "hub"), o =>
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
            })
            .WithAutomaticReconnect([TimeSpan.FromMinutes(1)])
            .Build();
        hub.Reconnecting += error =>
        {
            reconnecting.TrySetResult(error);
            return Task.CompletedTask;
        };
        await hub.StartAsync();
        Assert.Equal("before", await hub.InvokeAsync<string>("Echo", "before"));

        app.Signal(SampleProcess.SIGTERM);
        await app.WaitForEventAsync(100, "SigTerm");
        string during = await hub.InvokeAsync<string>("Echo", "during the wait");
        bool reconnectingDuringTheWait = reconnecting.Task.IsCompleted;
        app.Signal(SampleProcess.SIGTERM);
        Exception? error = await reconnecting.Task.WaitAsync(Timeout);
        Assert.Equal(0, await app.WaitForExitAsync());

        Assert.Equal("during the wait", during);
        Assert.False(reconnectingDuringTheWait, "SignalR closed the connection during the traffic wait.");
        // The .NET client reports a 1001 close as "Websocket closed with error: EndpointUnavailable"; SignalR's own abort at
        // ApplicationStopping drops the connection without a close frame (1006), which the client reports as a WebSocketException.
        Assert.IsNotType<WebSocketException>(error);
        Assert.Contains("EndpointUnavailable", error?.Message ?? "", StringComparison.Ordinal);
        IReadOnlyList<string> lines = app.Lines;
        int closed = SampleProcess.IndexOfEvent(lines, 121);
        Assert.True(closed >= 0 && closed < IndexOfApplicationStopping(lines), app.Output);
        Assert.Equal(1, LoggedCount(lines[closed]));
    }

    [Fact]
    public async Task PlainApp_WithoutTheLibrary_ServesTheLongLivedEndpoints()
    {
        await using SampleProcess app = await SampleProcess.StartAsync(["--Sample:UseLibrary=false"]);
        using ClientWebSocket socket = await ConnectWebSocketAsync(app);
        using HttpClient client = SampleProcess.CreateClient(app.BaseAddress!);
        await using HubConnection hub = new HubConnectionBuilder()
            .WithUrl(new Uri(app.BaseAddress!, "hub"), o =>
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
            })
            .Build();
        await hub.StartAsync();

        string echoed = await EchoAsync(socket, "plain");
        string hubEchoed = await hub.InvokeAsync<string>("Echo", "plain hub");
        using HttpResponseMessage sse = await client.GetAsync("sse", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await sse.Content.ReadAsStreamAsync(), Encoding.UTF8);
        string? firstEvent = await reader.ReadLineAsync();
        using HttpResponseMessage poll = await client.GetAsync("poll?ms=10");

        Assert.Equal("plain", echoed);
        Assert.Equal("plain hub", hubEchoed);
        Assert.Equal("id: 1", firstEvent);
        Assert.Equal("no news\n", await poll.Content.ReadAsStringAsync());
    }

    private static async Task<ClientWebSocket> ConnectWebSocketAsync(SampleProcess app)
    {
        var socket = new ClientWebSocket();
        var uri = new UriBuilder(new Uri(app.BaseAddress!, "ws")) { Scheme = "ws" }.Uri;
        using var timeout = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(uri, timeout.Token);
        return socket;
    }

    private static async Task<string> EchoAsync(ClientWebSocket socket, string message)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        byte[] buffer = new byte[1024];
        ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }

    private static string Line(SampleProcess app, int eventId) =>
        app.Lines.FirstOrDefault(l => SampleProcess.IsLibraryEvent(l, eventId)) ??
        throw new InvalidOperationException($"No event {eventId}:\n{app.Output}");

    // The sample's own line (no event id of its own).
    private static int IndexOfApplicationStopping(IReadOnlyList<string> lines) =>
        SampleProcess.IndexOf(lines, l => l.Contains(ApplicationStoppingLine, StringComparison.Ordinal));

    /// <summary>The count that events 120 and 121 log: the first number of the message, after the event id.</summary>
    private static int LoggedCount(string line)
    {
        Match match = FirstNumber().Match(line);
        Assert.True(match.Success, "no count in " + line);
        return int.Parse(match.Groups["count"].ValueSpan, CultureInfo.InvariantCulture);
    }

    /// <summary>Time from a log line's timestamp (<c>HH:mm:ss.fff</c>, the sample's local wall clock) to <paramref name="seen"/>.</summary>
    private static TimeSpan Since(string line, DateTime seen)
    {
        TimeOnly logged = TimeOnly.ParseExact(line[..12], "HH:mm:ss.fff", CultureInfo.InvariantCulture);
        TimeSpan difference = TimeOnly.FromDateTime(seen) - logged;
        return difference;
    }

    /// <summary>Time between two log lines' timestamps.</summary>
    private static TimeSpan Since(string first, string later) =>
        TimeOnly.ParseExact(later[..12], "HH:mm:ss.fff", CultureInfo.InvariantCulture) -
        TimeOnly.ParseExact(first[..12], "HH:mm:ss.fff", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\[\d+\]\D*(?<count>\d+)")]
    private static partial Regex FirstNumber();
}

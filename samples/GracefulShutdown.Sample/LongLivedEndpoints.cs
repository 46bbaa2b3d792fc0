using System.Net.WebSockets;
using GracefulShutdown;
using Microsoft.AspNetCore.SignalR;

namespace GracefulShutdown.Sample;

/// <summary>
/// The sample's long-lived endpoints: GET /ws (WebSocket echo), GET /sse (one server-sent event per second), GET /poll (a long
/// poll) and the SignalR hub at /hub. They end when the traffic wait is over (<see cref="IGracefulShutdown.TrafficWaitEnded"/>),
/// so their clients reconnect to another replica while this one still serves; without the library they behave like a plain app.
/// </summary>
internal static class LongLivedEndpoints
{
    private static readonly byte[] s_retryEvent = "event: close\nretry: 1000\ndata: this replica is going away; reconnect\n\n"u8.ToArray();

    public static void MapLongLivedEndpoints(this WebApplication app)
    {
        ILogger log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GracefulShutdown.Sample.LongLived");

        // A line the integration tests use to see when ApplicationStopping fires relative to the traffic wait.
        app.Lifetime.ApplicationStopping.Register(() => log.LogInformation("Sample: ApplicationStopping fired"));

        // GET /ws: every text or binary message is sent back. The app only echoes; the library closes the socket (1001) when the
        // traffic wait is over, and the loop below sees the client's answering close like any client-initiated close.
        app.Map("/ws", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                return Results.Problem("GET /ws is a WebSocket endpoint: send an upgrade request.", statusCode: StatusCodes.Status400BadRequest);
            }

            using WebSocket socket = await context.WebSockets.AcceptWebSocketAsync();
            log.LogDebug("WebSocket accepted");
            byte[] buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    ValueWebSocketReceiveResult received = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, socket.CloseStatusDescription, context.RequestAborted);
                        break;
                    }

                    await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
                // The client went away or the server aborted the connection: nothing left to do.
                log.LogDebug("WebSocket ended abnormally: {Reason}", ex.Message);
            }

            return Results.Empty;
        });

        // GET /sse: one event per second until the client leaves or the traffic wait is over; then a last event tells the
        // client to reconnect (retry: 1000 ms), and the response ends cleanly (the balancer sends the reconnect elsewhere).
        app.MapGet("/sse", async (HttpContext context) =>
        {
            CancellationToken leave = context.RequestServices.GetService<IGracefulShutdown>()?.TrafficWaitEnded ?? CancellationToken.None;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, leave);
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            log.LogDebug("Event stream started");
            try
            {
                for (int id = 1; ; id++)
                {
                    await context.Response.WriteAsync($"id: {id}\ndata: tick {id}\n\n", linked.Token);
                    await context.Response.Body.FlushAsync(linked.Token);
                    await Task.Delay(TimeSpan.FromSeconds(1), linked.Token);
                }
            }
            catch (OperationCanceledException) when (leave.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
            {
                await context.Response.Body.WriteAsync(s_retryEvent, context.RequestAborted);
                log.LogDebug("Event stream ended: the traffic wait is over");
            }
            catch (OperationCanceledException)
            {
                // The client left.
            }
        });

        // GET /poll?ms=N: a long poll that answers "no news" after N ms (default 25000), or at once when the traffic wait is
        // over, so the client's next poll goes to another replica.
        app.MapGet("/poll", async (string? ms, HttpContext context) =>
        {
            int duration = 25_000;
            if (ms is not null && (!int.TryParse(ms, out duration) || duration is < 0 or > 600_000))
            {
                return Results.Problem($"Query parameter 'ms' must be a whole number of milliseconds from 0 to 600000; it was '{ms}'.",
                    statusCode: StatusCodes.Status400BadRequest);
            }

            CancellationToken leave = context.RequestServices.GetService<IGracefulShutdown>()?.TrafficWaitEnded ?? CancellationToken.None;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, leave);
            log.LogDebug("Long poll of {Duration} ms started", duration);
            try
            {
                await Task.Delay(duration, linked.Token);
            }
            catch (OperationCanceledException) when (leave.IsCancellationRequested)
            {
                return Results.Text("no news; poll again\n");
            }

            return Results.Text("no news\n");
        });

        app.MapHub<EchoHub>("/hub");
    }
}

/// <summary>The sample's SignalR hub: <c>Echo(string) → string</c>.</summary>
internal sealed class EchoHub : Hub
{
    /// <summary>Returns <paramref name="message"/>.</summary>
#pragma warning disable CA1822 // SignalR binds instance methods only.
    public string Echo(string message) => message;
#pragma warning restore CA1822
}

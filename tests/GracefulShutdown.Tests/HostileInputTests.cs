using System.Net;
using GracefulShutdown.Hosting;
using GracefulShutdown.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests;

/// <summary>
/// Hostile requests to every library endpoint, in Kubernetes mode with a preStop token: each answers 4xx or the normal probe
/// answer, never 5xx, and never changes the lifecycle state. (HTTP/1.0, pipelining and limits of the real server are in the
/// integration tests' RawHttpTests.)
/// </summary>
public sealed class HostileInputTests(HostileInputTests.Host host) : IClassFixture<HostileInputTests.Host>
{
    private const string Token = "s3cret-Token";
    private static readonly string Huge = new('x', 64 * 1024);

    public static readonly string[] Endpoints = ["/health/startup", "/health/ready", "/health/live", "/lifecycle/prestop"];

    /// <summary>Name, method, query, headers ("Name: value", repeatable), remote address.</summary>
    private static readonly (string Name, string Method, string Query, string[] Headers, string Remote)[] Requests =
    [
        ("unknown parameter", "GET", "?force=1", [], "127.0.0.1"),
        ("unknown parameter, empty name", "GET", "?=1", [], "127.0.0.1"),
        ("separators only", "GET", "?&&&", [], "127.0.0.1"),
        ("parameter without value", "GET", "?wait", [], "127.0.0.1"),
        ("empty value", "GET", "?wait=", [], "127.0.0.1"),
        ("repeated parameter, same value", "GET", "?wait=false&wait=false", [], "127.0.0.1"),
        ("repeated parameter, conflicting values", "GET", "?wait=false&wait=true", [], "127.0.0.1"),
        ("NUL in value", "GET", "?wait=%00", [], "127.0.0.1"),
        ("not UTF-8", "GET", "?wait=%ff%fe", [], "127.0.0.1"),
        ("huge parameter", "GET", "?wait=" + Huge, [], "127.0.0.1"),
        ("a thousand parameters", "GET", "?" + string.Join('&', Enumerable.Range(0, 1000).Select(i => $"p{i}=1")), [], "127.0.0.1"),
        ("huge header", "GET", "", ["X-Filler: " + Huge], "127.0.0.1"),
        ("repeated header", "GET", "", [.. Enumerable.Repeat("X-Repeated: 1", 500)], "127.0.0.1"),
        ("huge user agent", "GET", "", ["User-Agent: " + Huge], "127.0.0.1"),
        ("POST", "POST", "", [], "127.0.0.1"),
        ("PUT", "PUT", "", [], "127.0.0.1"),
        ("DELETE", "DELETE", "", [], "127.0.0.1"),
        ("PATCH", "PATCH", "", [], "127.0.0.1"),
        ("OPTIONS", "OPTIONS", "", [], "127.0.0.1"),
        ("TRACE", "TRACE", "", [], "127.0.0.1"),
        ("CONNECT", "CONNECT", "", [], "127.0.0.1"),
        ("made-up method", "FROBNICATE", "", [], "127.0.0.1"),
        ("lower-case get", "get", "", [], "127.0.0.1"),
        ("no remote address", "GET", "?wait=false", [], ""),
        ("IPv6 loopback", "GET", "?wait=false", [], "::1"),
        ("same-pod proxy (Istio)", "GET", "?wait=false", [], "127.0.0.6"),
        ("remote caller", "GET", "?wait=false", [], "10.1.2.3"),
        ("spoofed forwarding headers", "GET", "?wait=false", ["X-Forwarded-For: 127.0.0.1", "X-Real-IP: 127.0.0.1", "Forwarded: for=127.0.0.1"], "10.1.2.3"),
        ("token: missing", "GET", "?wait=false", [], "127.0.0.1"),
        ("token: empty", "GET", "?wait=false", ["X-PreStop-Token: "], "127.0.0.1"),
        ("token: wrong", "GET", "?wait=false", ["X-PreStop-Token: guess"], "127.0.0.1"),
        ("token: other case", "GET", "?wait=false", ["X-PreStop-Token: " + Token.ToUpperInvariant()], "127.0.0.1"),
        ("token: prefix only", "GET", "?wait=false", ["X-PreStop-Token: " + Token[..^1]], "127.0.0.1"),
        ("token: with a suffix", "GET", "?wait=false", ["X-PreStop-Token: " + Token + "x"], "127.0.0.1"),
        ("token: padded", "GET", "?wait=false", ["X-PreStop-Token:  " + Token + " "], "127.0.0.1"),
        ("token: NUL appended", "GET", "?wait=false", ["X-PreStop-Token: " + Token + "\0"], "127.0.0.1"),
        ("token: huge", "GET", "?wait=false", ["X-PreStop-Token: " + Huge], "127.0.0.1"),
        ("token: right then wrong", "GET", "?wait=false", ["X-PreStop-Token: " + Token, "X-PreStop-Token: guess"], "127.0.0.1"),
        ("token: wrong then right", "GET", "?wait=false", ["X-PreStop-Token: guess", "X-PreStop-Token: " + Token], "127.0.0.1"),
        ("token: right, twice", "GET", "?wait=false", ["X-PreStop-Token: " + Token, "X-PreStop-Token: " + Token], "127.0.0.1"),
        ("token: as a comma list", "GET", "?wait=false", ["X-PreStop-Token: guess, " + Token], "127.0.0.1"),
        ("token: in the query", "GET", "?wait=false&token=" + Token, [], "127.0.0.1"),
        ("token: in the query, header name", "GET", "?X-PreStop-Token=" + Token, [], "127.0.0.1"),
        ("token: in another header", "GET", "?wait=false", ["X-PreStop-Token2: " + Token], "127.0.0.1"),
        ("token: as a bearer token", "GET", "?wait=false", ["Authorization: Bearer " + Token], "127.0.0.1"),
        ("token: in a cookie", "GET", "?wait=false", ["Cookie: X-PreStop-Token=" + Token], "127.0.0.1"),
        ("token: as the header name", "GET", "?wait=false", [Token + ": 1"], "127.0.0.1"),
        ("token: right, wrong method", "POST", "?wait=false", ["X-PreStop-Token: " + Token], "10.1.2.3"),
        ("token: right, malformed query", "GET", "?wait=maybe", ["X-PreStop-Token: " + Token], "10.1.2.3"),
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string endpoint in Endpoints)
        {
            foreach ((string name, _, _, _, _) in Requests)
            {
                data.Add(endpoint, name);
            }
        }

        return data;
    }

    /// <summary>One app for the whole table (one host per case would exhaust inotify instances): no case may change its state.</summary>
    public sealed class Host : IAsyncLifetime
    {
        public WebApplication App { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            App = await TestHostBuilder.StartAsync(new FakeTimeProvider(), o => o.PreStop.Token = Token, kubernetes: true);
            await App.Shutdown().WhenReady.WaitAsync(TimeSpan.FromSeconds(10));
        }

        public Task DisposeAsync() => App.StopNowAsync();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task HostileRequest_Answers4xxOrTheNormalAnswer_Never5xx_AndChangesNothing(string endpoint, string requestName)
    {
        (_, string method, string query, string[] headers, string remote) = Requests.Single(r => r.Name == requestName);
        WebApplication app = host.App;
        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
        (int normalStatus, _) = await SendAsync(app, "GET", endpoint, "", [], "127.0.0.1");

        (int status, string contentType) = await SendAsync(app, method, endpoint, query, headers, remote);

        Assert.True(status < 500, $"{method} {endpoint}{Shorten(query)} [{requestName}] answered {status}");
        Assert.True(status is >= 400 and < 500 || (status == normalStatus && endpoint != "/lifecycle/prestop"),
            $"{method} {endpoint}{Shorten(query)} [{requestName}] answered {status}; expected 4xx or the normal answer {normalStatus}");
        if (status is 400 or 403 or 405)
        {
            Assert.Equal("application/problem+json", contentType);
        }

        Assert.Equal(GracefulShutdownPhase.Running, app.Lifecycle().Phase);
        Assert.Equal(HttpStatusCode.OK, (await app.GetTestClient().GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task TheTable_IsNotVacuous_TheRightTokenDoesDrain()
    {
        WebApplication app = await TestHostBuilder.StartAsync(new FakeTimeProvider(), o => o.PreStop.Token = Token, kubernetes: true);
        try
        {
            (int status, _) = await SendAsync(app, "GET", "/lifecycle/prestop", "?wait=false", ["X-PreStop-Token: " + Token], "10.1.2.3");

            Assert.Equal(202, status);
            Assert.Equal(GracefulShutdownPhase.Draining, app.Lifecycle().Phase);
        }
        finally
        {
            await app.StopNowAsync();
        }
    }

    private static async Task<(int Status, string ContentType)> SendAsync(WebApplication app, string method, string path, string query,
        string[] headers, string remote)
    {
        HttpContext context = await app.GetTestServer().SendAsync(c =>
        {
            c.Request.Method = method;
            c.Request.Path = path;
            c.Request.QueryString = new QueryString(query.Length == 0 ? null : query);
            c.Connection.RemoteIpAddress = remote.Length == 0 ? null : IPAddress.Parse(remote);
            foreach (string header in headers)
            {
                int colon = header.IndexOf(':', StringComparison.Ordinal);
                string name = header[..colon];
                string value = header[(colon + 1)..].TrimStart(' ');
                c.Request.Headers.Append(name, value);
            }
        }).WaitAsync(TimeSpan.FromSeconds(10));
        return (context.Response.StatusCode, context.Response.ContentType ?? "");
    }

    private static string Shorten(string query) => query.Length > 60 ? query[..60] + "…" : query;
}

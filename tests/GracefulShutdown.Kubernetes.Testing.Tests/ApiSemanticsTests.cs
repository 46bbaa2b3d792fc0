using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Kubernetes.Testing.Tests;

/// <summary>The API server semantics the stand-in models, checked over HTTP with a plain <see cref="HttpClient"/>.</summary>
public sealed class ApiSemanticsTests
{
    private static string Rv(JsonNode? obj) => obj!["metadata"]!["resourceVersion"]!.GetValue<string>();

    private static long RvNumber(JsonNode? obj) => long.Parse(Rv(obj), CultureInfo.InvariantCulture);

    [Fact]
    public async Task RequestsWithoutTheToken_Get401StatusBody()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        using var wrong = new ApiClient(server, token: "not-the-token");
        using var none = new HttpClient(server.CreateHttpMessageHandler()) { BaseAddress = server.BaseAddress };

        (int status, JsonNode? body, _) = await wrong.GetAsync("api/v1/namespaces/team/pods");
        using HttpResponseMessage anonymous = await none.GetAsync("api/v1");

        Assert.Equal(401, status);
        Assert.Equal("Status", body!["kind"]!.GetValue<string>());
        Assert.Equal("Unauthorized", body["reason"]!.GetValue<string>());
        Assert.Equal(401, body["code"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task AuthorizeRule_Gives403ForbiddenWithTheRealServersMessage_AndLetsOthersThrough()
    {
        await using var server = await KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions
        {
            Authorize = access => !(access.Resource == "endpointslices" && access.Verb == "list"),
        });
        server.Apply(Fixture.Pod("p1"));
        using var client = new ApiClient(server);

        (int status, JsonNode? body, _) = await client.GetAsync("apis/discovery.k8s.io/v1/namespaces/team/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb");
        (int podStatus, _, _) = await client.GetAsync("api/v1/namespaces/team/pods/p1");

        Assert.Equal(403, status);
        Assert.Equal("Forbidden", body!["reason"]!.GetValue<string>());
        Assert.Equal(
            "endpointslices.discovery.k8s.io is forbidden: User \"system:serviceaccount:default:stand-in\" cannot list resource \"endpointslices\" in API group \"discovery.k8s.io\" in the namespace \"team\"",
            body["message"]!.GetValue<string>());
        Assert.Equal("discovery.k8s.io", body["details"]!["group"]!.GetValue<string>());
        Assert.Equal(200, podStatus);
    }

    [Fact]
    public async Task Apply_AssignsServerFieldsFromOneGlobalCounter_ReplaceKeepsIdentity()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();

        JsonObject pod = server.Apply(Fixture.Pod("p1"));
        JsonObject slice = server.Apply(Fixture.Slice("web-1", "web"));
        JsonObject replaced = server.Apply(Fixture.Pod("p1", phase: "Succeeded"));

        Assert.Equal(RvNumber(pod) + 1, RvNumber(slice));
        Assert.Equal(RvNumber(slice) + 1, RvNumber(replaced));
        Assert.Equal(pod["metadata"]!["uid"]!.GetValue<string>(), replaced["metadata"]!["uid"]!.GetValue<string>());
        Assert.Equal(pod["metadata"]!["creationTimestamp"]!.GetValue<string>(), replaced["metadata"]!["creationTimestamp"]!.GetValue<string>());
        Assert.Equal("Succeeded", server.Get("Pod", "team", "p1")!["status"]!["phase"]!.GetValue<string>());
        Assert.Equal(RvNumber(replaced), server.ResourceVersion);

        JsonObject defaulted = server.Apply("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"no-namespace"}}""");
        Assert.Equal("default", defaulted["metadata"]!["namespace"]!.GetValue<string>());
        Assert.NotNull(server.Get("po", "default", "no-namespace"));
        Assert.True(server.Delete("pods", "default", "no-namespace"));
        Assert.False(server.Delete("pods", "default", "no-namespace"));
        long afterDelete = server.ResourceVersion;
        Assert.Throws<ArgumentException>(() => server.Apply("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}"""));
        Assert.Throws<ArgumentException>(() => server.Apply("""{"apiVersion":"v1","kind":"Pod","metadata":{}}"""));

        Assert.Equal(RvNumber(replaced) + 2, afterDelete);
        Assert.Equal(afterDelete, server.ResourceVersion);
    }

    [Fact]
    public async Task Get_ServesTheObject_Or404StatusNamingIt()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        JsonObject stored = server.Apply(Fixture.Slice("web-1", "web"));
        using var client = new ApiClient(server);

        (int status, JsonNode? body, _) = await client.GetAsync("apis/discovery.k8s.io/v1/namespaces/team/endpointslices/web-1");
        (int missing, JsonNode? notFound, _) = await client.GetAsync("api/v1/namespaces/team/pods/nope");

        Assert.Equal(200, status);
        Assert.True(JsonNode.DeepEquals(stored, body));
        Assert.Equal(404, missing);
        Assert.Equal("pods \"nope\" not found", notFound!["message"]!.GetValue<string>());
        Assert.Equal("NotFound", notFound["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_CarriesTheListResourceVersion_ItemsWithoutTypeMeta_AndFiltersBySelectors()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        server.Apply(Fixture.Pod("a", app: "web"));
        server.Apply(Fixture.Pod("b", app: "api"));
        server.Apply(Fixture.Pod("c", app: "web", phase: "Pending"));
        server.Apply(Fixture.Pod("d", ns: "other", app: "web"));
        server.Apply(Fixture.Pod("e", ns: "team-b", app: "web"));
        using var client = new ApiClient(server);

        static string[] Names(JsonNode? list) => [.. list!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>())];

        (_, JsonNode? all, _) = await client.GetAsync("api/v1/namespaces/team/pods");
        (_, JsonNode? web, _) = await client.GetAsync("api/v1/namespaces/team/pods?labelSelector=app%3Dweb");
        (_, JsonNode? notWeb, _) = await client.GetAsync("api/v1/namespaces/team/pods?labelSelector=app!%3Dweb");
        (_, JsonNode? inSet, _) = await client.GetAsync("api/v1/namespaces/team/pods?labelSelector=app%20in%20(api,x)");
        (_, JsonNode? byName, _) = await client.GetAsync("api/v1/namespaces/team/pods?fieldSelector=metadata.name%3Dc");
        (_, JsonNode? running, _) = await client.GetAsync("api/v1/namespaces/team/pods?fieldSelector=status.phase%3DRunning,metadata.name!%3Db");
        (_, JsonNode? everywhere, _) = await client.GetAsync("api/v1/pods?labelSelector=app%3Dweb");
        (int badField, JsonNode? badFieldBody, _) = await client.GetAsync("api/v1/namespaces/team/pods?fieldSelector=spec.containers%3Dx");
        (int badLabel, _, _) = await client.GetAsync("api/v1/namespaces/team/pods?labelSelector=app%20in%20web");

        Assert.Equal("PodList", all!["kind"]!.GetValue<string>());
        Assert.Equal(server.ResourceVersion.ToString(CultureInfo.InvariantCulture), all["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.All(all["items"]!.AsArray(), i => Assert.Null(i!["kind"]));
        Assert.Equal(["a", "b", "c"], Names(all));
        Assert.Equal(["a", "c"], Names(web));
        Assert.Equal(["b"], Names(notWeb));
        Assert.Equal(["b"], Names(inSet));
        Assert.Equal(["c"], Names(byName));
        Assert.Equal(["a"], Names(running));
        Assert.Equal(["d", "e", "a", "c"], Names(everywhere)); // etcd key order: "team-b/e" < "team/a" as '-' < '/'
        Assert.Equal(400, badField);
        Assert.Equal("field label not supported: spec.containers", badFieldBody!["message"]!.GetValue<string>());
        Assert.Equal(400, badLabel);
    }

    [Fact]
    public async Task List_PagesWithLimitAndContinue_And410ForACompactedContinueOrExactVersion()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        foreach (string name in new[] { "a", "b", "c" })
        {
            server.Apply(Fixture.Pod(name));
        }

        using var client = new ApiClient(server);
        (_, JsonNode? first, _) = await client.GetAsync("api/v1/namespaces/team/pods?limit=2");
        string token = first!["metadata"]!["continue"]!.GetValue<string>();
        (_, JsonNode? second, _) = await client.GetAsync($"api/v1/namespaces/team/pods?limit=2&continue={Uri.EscapeDataString(token)}");
        string listRv = Rv(first);
        server.Apply(Fixture.Pod("d"));
        server.CompactBefore(server.ResourceVersion);
        (int expiredContinue, JsonNode? expiredBody, _) = await client.GetAsync($"api/v1/namespaces/team/pods?limit=2&continue={Uri.EscapeDataString(token)}");
        (int exact, _, _) = await client.GetAsync($"api/v1/namespaces/team/pods?resourceVersion={listRv}&resourceVersionMatch=Exact");
        (int notOlderThan, JsonNode? current, _) = await client.GetAsync($"api/v1/namespaces/team/pods?resourceVersion={listRv}");

        Assert.Equal(2, first["items"]!.AsArray().Count);
        Assert.Equal(1, first["metadata"]!["remainingItemCount"]!.GetValue<int>());
        Assert.Equal("c", Assert.Single(second!["items"]!.AsArray())!["metadata"]!["name"]!.GetValue<string>());
        Assert.Null(second["metadata"]!["continue"]);
        Assert.Equal(listRv, Rv(second));
        Assert.Equal(410, expiredContinue);
        Assert.Equal("Expired", expiredBody!["reason"]!.GetValue<string>());
        Assert.Equal(410, exact);
        Assert.Equal(200, notOlderThan);
        Assert.Equal(4, current!["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Watch_WithoutResourceVersion_SendsSyntheticAddedThenChangesInOrder()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        server.Apply(Fixture.Pod("a"));
        server.Apply(Fixture.Pod("b", ns: "other"));
        using var client = new ApiClient(server);

        using WatchReader watch = await client.WatchAsync("api/v1/namespaces/team/pods?watch=true");
        JsonObject? initial = await watch.NextAsync();
        JsonObject added = server.Apply(Fixture.Pod("c"));
        JsonObject modified = server.Apply(Fixture.Pod("a", phase: "Failed"));
        server.Apply(Fixture.Pod("x", ns: "other"));
        Assert.True(server.Delete("pods", "team", "c"));
        JsonObject? e1 = await watch.NextAsync();
        JsonObject? e2 = await watch.NextAsync();
        JsonObject? e3 = await watch.NextAsync();

        Assert.Equal("application/json", watch.Response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(("ADDED", "a"), (initial!["type"]!.GetValue<string>(), initial["object"]!["metadata"]!["name"]!.GetValue<string>()));
        Assert.Equal("Pod", initial["object"]!["kind"]!.GetValue<string>());
        Assert.Equal(("ADDED", Rv(added)), (e1!["type"]!.GetValue<string>(), Rv(e1["object"])));
        Assert.Equal(("MODIFIED", Rv(modified)), (e2!["type"]!.GetValue<string>(), Rv(e2["object"])));
        Assert.Equal("DELETED", e3!["type"]!.GetValue<string>());
        Assert.Equal("c", e3["object"]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(server.ResourceVersion, RvNumber(e3["object"]));
    }

    [Fact]
    public async Task Watch_FromAResourceVersion_ReplaysOnlyLaterChanges_AndFromACompactedOneGets410Error()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        JsonObject first = server.Apply(Fixture.Pod("a"));
        JsonObject second = server.Apply(Fixture.Pod("b"));
        JsonObject third = server.Apply(Fixture.Pod("a", phase: "Succeeded"));
        using var client = new ApiClient(server);

        using (WatchReader watch = await client.WatchAsync($"api/v1/namespaces/team/pods?watch=1&resourceVersion={Rv(first)}"))
        {
            JsonObject? e1 = await watch.NextAsync();
            JsonObject? e2 = await watch.NextAsync();
            Assert.Equal(("ADDED", Rv(second)), (e1!["type"]!.GetValue<string>(), Rv(e1["object"])));
            Assert.Equal(("MODIFIED", Rv(third)), (e2!["type"]!.GetValue<string>(), Rv(e2["object"])));
        }

        server.CompactBefore(RvNumber(third));
        using WatchReader expired = await client.WatchAsync($"api/v1/namespaces/team/pods?watch=true&resourceVersion={Rv(first)}");
        JsonObject? error = await expired.NextAsync();
        string? end = await expired.NextLineAsync();
        using WatchReader stillFine = await client.WatchAsync($"api/v1/namespaces/team/pods?watch=true&resourceVersion={Rv(third)}");
        JsonObject later = server.Apply(Fixture.Pod("c"));
        JsonObject? afterCompaction = await stillFine.NextAsync();

        Assert.Equal(HttpStatusCode.OK, expired.Response.StatusCode);
        Assert.Equal("ERROR", error!["type"]!.GetValue<string>());
        Assert.Equal("Status", error["object"]!["kind"]!.GetValue<string>());
        Assert.Equal(410, error["object"]!["code"]!.GetValue<int>());
        Assert.Equal("Expired", error["object"]!["reason"]!.GetValue<string>());
        Assert.Equal($"too old resource version: {Rv(first)} ({Rv(third)})", error["object"]!["message"]!.GetValue<string>());
        Assert.Null(end);
        Assert.Equal(Rv(later), Rv(afterCompaction!["object"]));
    }

    [Fact]
    public async Task Watch_BeyondMaxHistory_TheOldestChangesAreCompactedAway()
    {
        await using var server = await KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions { MaxHistory = 2 });
        JsonObject first = server.Apply(Fixture.Pod("a"));
        JsonObject second = server.Apply(Fixture.Pod("b"));
        JsonObject third = server.Apply(Fixture.Pod("c"));
        JsonObject fourth = server.Apply(Fixture.Pod("d"));
        using var client = new ApiClient(server);

        using WatchReader tooOld = await client.WatchAsync($"api/v1/namespaces/team/pods?watch=true&resourceVersion={Rv(first)}");
        using WatchReader kept = await client.WatchAsync($"api/v1/namespaces/team/pods?watch=true&resourceVersion={Rv(second)}");
        JsonObject? error = await tooOld.NextAsync();
        JsonObject? replayed = await kept.NextAsync();
        JsonObject? next = await kept.NextAsync();

        Assert.Equal(410, error!["object"]!["code"]!.GetValue<int>());
        Assert.Equal(Rv(third), Rv(replayed!["object"]));
        Assert.Equal(Rv(fourth), Rv(next!["object"]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions { MaxHistory = 0 }));
    }

    [Fact]
    public async Task Watch_WithSelectors_SeesObjectsEnterAndLeaveAsAddedAndDeleted()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        server.Apply(Fixture.Slice("web-1", "web"));
        using var client = new ApiClient(server);

        using WatchReader watch = await client.WatchAsync("apis/discovery.k8s.io/v1/namespaces/team/endpointslices?watch=true&labelSelector=kubernetes.io%2Fservice-name%3Dweb");
        JsonObject? initial = await watch.NextAsync();
        server.Apply(Fixture.Slice("api-1", "api"));
        server.Apply(Fixture.Slice("web-1", "web", ready: false));
        server.Apply(Fixture.Slice("web-1", "renamed"));
        server.Apply(Fixture.Slice("api-1", "web"));
        string[] types = [(await watch.NextAsync())!["type"]!.GetValue<string>(), (await watch.NextAsync())!["type"]!.GetValue<string>()];
        JsonObject? entered = await watch.NextAsync();

        Assert.Equal("ADDED", initial!["type"]!.GetValue<string>());
        Assert.Equal(["MODIFIED", "DELETED"], types);
        Assert.Equal(("ADDED", "api-1"), (entered!["type"]!.GetValue<string>(), entered["object"]!["metadata"]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Watch_WithAllowWatchBookmarks_GetsBookmarksAtTheCurrentResourceVersion_OthersDoNot()
    {
        var time = new FakeTimeProvider();
        await using var server = await KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions { TimeProvider = time, BookmarkInterval = TimeSpan.FromSeconds(1) });
        server.Apply(Fixture.Pod("a"));
        using var client = new ApiClient(server);

        using WatchReader plain = await client.WatchAsync($"api/v1/namespaces/team/pods?watch=true&resourceVersion={server.ResourceVersion}&timeoutSeconds=5");
        using WatchReader watch = await client.WatchAsync($"api/v1/namespaces/team/pods?watch=true&resourceVersion={server.ResourceVersion}&allowWatchBookmarks=true");
        JsonObject other = server.Apply(Fixture.Pod("b", ns: "other"));
        time.Advance(TimeSpan.FromSeconds(1));
        JsonObject? bookmark = await watch.NextAsync();
        JsonObject changed = server.Apply(Fixture.Pod("a", phase: "Failed"));
        time.Advance(TimeSpan.FromSeconds(1));
        JsonObject? modified = await watch.NextAsync();
        JsonObject? second = await watch.NextAsync();
        time.Advance(TimeSpan.FromSeconds(3));
        JsonObject? plainModified = await plain.NextAsync();
        string? plainEnd = await plain.NextLineAsync();

        Assert.Equal("BOOKMARK", bookmark!["type"]!.GetValue<string>());
        Assert.Equal("Pod", bookmark["object"]!["kind"]!.GetValue<string>());
        Assert.Equal(Rv(other), Rv(bookmark["object"]));
        Assert.Equal(("MODIFIED", Rv(changed)), (modified!["type"]!.GetValue<string>(), Rv(modified["object"])));
        Assert.Equal(("BOOKMARK", Rv(changed)), (second!["type"]!.GetValue<string>(), Rv(second["object"])));
        Assert.Equal("MODIFIED", plainModified!["type"]!.GetValue<string>());
        Assert.Null(plainEnd);
    }

    [Fact]
    public async Task Watch_EndsCleanlyAfterTimeoutSeconds_AndOnDropWatches()
    {
        var time = new FakeTimeProvider();
        await using var server = await KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions { TimeProvider = time });
        using var client = new ApiClient(server);

        using WatchReader timed = await client.WatchAsync("api/v1/namespaces/team/pods?watch=true&timeoutSeconds=30");
        using WatchReader dropped = await client.WatchAsync("apis/discovery.k8s.io/v1/endpointslices?watch=true");
        Assert.Equal(2, server.OpenWatchCount);
        time.Advance(TimeSpan.FromSeconds(29));
        server.Apply(Fixture.Pod("a"));
        JsonObject? beforeTimeout = await timed.NextAsync();
        time.Advance(TimeSpan.FromSeconds(1));
        string? timedEnd = await timed.NextLineAsync();
        server.DropWatches();
        string? droppedEnd = await dropped.NextLineAsync();

        Assert.Equal("ADDED", beforeTimeout!["type"]!.GetValue<string>());
        Assert.Null(timedEnd);
        Assert.Null(droppedEnd);
        Assert.Equal(0, server.OpenWatchCount);
    }

    [Fact]
    public async Task AbortWatches_ResetsTheStream_TheClientSeesAnErrorNotAnEnd()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        server.Apply(Fixture.Pod("a"));
        using var client = new ApiClient(server);

        using WatchReader watch = await client.WatchAsync("api/v1/namespaces/team/pods?watch=true");
        JsonObject? initial = await watch.NextAsync();
        server.AbortWatches();

        Assert.Equal("ADDED", initial!["type"]!.GetValue<string>());
        await Assert.ThrowsAnyAsync<IOException>(watch.NextLineAsync);
        Assert.Equal(0, server.OpenWatchCount);
    }

    [Fact]
    public async Task Faults_StatusCodeAndMalformedBodies_AnswerAsConfigured_OnlyWhereTheyApply()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        server.Apply(Fixture.Pod("a"));
        using var client = new ApiClient(server);

        server.Faults.StatusCode = 500;
        server.Faults.AppliesTo = call => call.Resource == "pods" && call.Verb == "list";
        (int listStatus, JsonNode? listBody, _) = await client.GetAsync("api/v1/namespaces/team/pods");
        (int getStatus, _, _) = await client.GetAsync("api/v1/namespaces/team/pods/a");
        server.Faults.Reset();
        server.Faults.MalformedBodies = true;
        (int malformedStatus, JsonNode? malformedBody, string malformedText) = await client.GetAsync("api/v1/namespaces/team/pods/a");
        server.Faults.Reset();
        (int healthy, _, _) = await client.GetAsync("api/v1/namespaces/team/pods/a");

        Assert.Equal(500, listStatus);
        Assert.Equal(("InternalError", 500), (listBody!["reason"]!.GetValue<string>(), listBody["code"]!.GetValue<int>()));
        Assert.Equal(200, getStatus);
        Assert.Equal(200, malformedStatus);
        Assert.Null(malformedBody);
        Assert.NotEmpty(malformedText);
        Assert.Equal(200, healthy);
        Assert.Throws<ArgumentOutOfRangeException>(() => server.Faults.StatusCode = 200);
    }

    [Fact]
    public async Task Faults_Unreachable_ClosesTheConnectionWithoutAnAnswer()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        using var client = new ApiClient(server);
        server.Faults.Unreachable = true;

        await Assert.ThrowsAsync<HttpRequestException>(() => client.Http.GetAsync("api/v1/namespaces/team/pods"));
        server.Faults.Unreachable = false;
        using HttpResponseMessage after = await client.Http.GetAsync("api/v1/namespaces/team/pods");

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Faults_Delay_HoldsTheAnswerUntilTheDelayPassed()
    {
        var time = new TimerRecordingTimeProvider();
        await using var server = await KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions { TimeProvider = time });
        using var client = new ApiClient(server);
        server.Faults.Delay = TimeSpan.FromSeconds(10);

        Task<HttpResponseMessage> pending = client.Http.GetAsync("api/v1/namespaces/team/pods");
        await server.WaitForCallAsync(c => c.Verb == "list", Fixture.TimeoutToken());

        // The answer waits on this timer (whether the HTTP response has come yet cannot be observed deterministically): armed
        // before the clock moves, it holds the whole delay, and it fires only once the clock has reached it (FakeTimeProvider
        // runs timer callbacks inside Advance).
        ArmedTimer delay = await time.NextTimerAsync();
        Assert.Equal(TimeSpan.FromSeconds(10), delay.DueTime);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(delay.Fired);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(delay.Fired);
        using HttpResponseMessage response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A timer armed on <see cref="TimerRecordingTimeProvider"/>: its due time and whether it has fired.</summary>
    private sealed class ArmedTimer(TimeSpan dueTime)
    {
        private int _fired;

        public TimeSpan DueTime => dueTime;

        public bool Fired => Volatile.Read(ref _fired) == 1;

        public void Fire() => Volatile.Write(ref _fired, 1);
    }

    /// <summary>Fake time that reports each timer armed on it (as Task.Delay(delay, timeProvider) arms one).</summary>
    private sealed class TimerRecordingTimeProvider : FakeTimeProvider
    {
        private readonly Channel<ArmedTimer> _armed = Channel.CreateUnbounded<ArmedTimer>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var armed = new ArmedTimer(dueTime);
            ITimer timer = base.CreateTimer(s =>
            {
                armed.Fire();
                callback(s);
            }, state, dueTime, period);
            _armed.Writer.TryWrite(armed);
            return timer;
        }

        /// <summary>The next timer armed (now or before; the wait is bounded by <see cref="Fixture.Timeout"/>).</summary>
        public async Task<ArmedTimer> NextTimerAsync() => await _armed.Reader.ReadAsync(Fixture.TimeoutToken());
    }

    [Fact]
    public async Task Discovery_ListsPodsAndEndpointSlices_AndUnknownPathsAre404()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        using var client = new ApiClient(server);

        (_, JsonNode? version, _) = await client.GetAsync("version");
        (_, JsonNode? api, _) = await client.GetAsync("api");
        (_, JsonNode? core, _) = await client.GetAsync("api/v1");
        (_, JsonNode? groups, _) = await client.GetAsync("apis");
        (_, JsonNode? discovery, _) = await client.GetAsync("apis/discovery.k8s.io/v1");
        (int openapi, _, _) = await client.GetAsync("openapi/v3");
        (int services, _, _) = await client.GetAsync("api/v1/namespaces/team/services");

        Assert.Equal("v1.32.4", version!["gitVersion"]!.GetValue<string>());
        Assert.Equal("v1", api!["versions"]![0]!.GetValue<string>());
        Assert.Contains(core!["resources"]!.AsArray(), r => r!["name"]!.GetValue<string>() == "pods" && r["kind"]!.GetValue<string>() == "Pod");
        Assert.Contains(groups!["groups"]!.AsArray(), g => g!["name"]!.GetValue<string>() == "discovery.k8s.io");
        Assert.Contains(discovery!["resources"]!.AsArray(), r => r!["name"]!.GetValue<string>() == "endpointslices");
        Assert.Equal(404, openapi);
        Assert.Equal(404, services);
    }

    [Fact]
    public async Task Calls_AreRecordedOnArrival_AndWaitForCallAsyncSeesLaterOnes()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        using var client = new ApiClient(server);
        (int listStatus, _, _) = await client.GetAsync("apis/discovery.k8s.io/v1/namespaces/team/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb");
        KubernetesApiCall list = Assert.Single(server.Calls); // recorded by the time the answer came

        // A call already received that does not match does not satisfy the wait (a match among them returns at once).
        Task<KubernetesApiCall> waiting = server.WaitForCallAsync(c => c.Verb == "watch" && c.Resource == "endpointslices", Fixture.TimeoutToken());
        bool seenEarly = waiting.IsCompleted;
        using WatchReader watch = await client.WatchAsync("apis/discovery.k8s.io/v1/namespaces/team/endpointslices?watch=true&labelSelector=kubernetes.io%2Fservice-name%3Dweb");
        KubernetesApiCall call = await waiting;

        Assert.Equal(200, listStatus);
        Assert.Equal(("list", "endpointslices"), (list.Verb, list.Resource));
        Assert.False(seenEarly);
        Assert.Equal(("GET", "team", "web"), (call.Method, call.Namespace, call.QueryValue("labelSelector")?.Split('=')[1]));
        Assert.Equal("/apis/discovery.k8s.io/v1/namespaces/team/endpointslices", call.Path);
        Assert.Equal<KubernetesApiCall>([list, call], server.Calls);
        Assert.True(list.Sequence < call.Sequence);
    }

    [Fact]
    public async Task WriteKubeconfig_NamesTheServerTokenCaAndNamespace()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        string path = Path.Combine(Path.GetTempPath(), $"standin-{Guid.NewGuid():N}.yaml");
        try
        {
            string text = File.ReadAllText(server.WriteKubeconfig(path, "team"));

            Assert.Contains($"server: {server.BaseAddress.GetLeftPart(UriPartial.Authority)}", text, StringComparison.Ordinal);
            Assert.Contains($"token: \"{server.Token}\"", text, StringComparison.Ordinal);
            Assert.Contains("namespace: team", text, StringComparison.Ordinal);
            Assert.Contains("certificate-authority-data: ", text, StringComparison.Ordinal);
            Assert.StartsWith("https://127.0.0.1:", server.BaseAddress.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task WriteServiceAccount_WritesTokenCaAndNamespaceTheServerAccepts()
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        string directory = Path.Combine(Path.GetTempPath(), $"standin-sa-{Guid.NewGuid():N}");
        try
        {
            server.WriteServiceAccount(directory, "team");
            string token = File.ReadAllText(Path.Combine(directory, "token"));
            using var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(directory, "ca.crt")));
            using var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData()));
            };
            using var client = new HttpClient(handler, disposeHandler: false) { BaseAddress = server.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

            using HttpResponseMessage response = await client.GetAsync($"api/v1/namespaces/{File.ReadAllText(Path.Combine(directory, "namespace"))}/pods");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task BadInput_GetsAClearErrorAndChangesNothing()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions { BookmarkInterval = TimeSpan.FromSeconds(-1) }));
        ArgumentException token = await Assert.ThrowsAsync<ArgumentException>(() => KubernetesApiStandIn.StartAsync(new KubernetesApiStandInOptions { Token = "a b" }));
        Assert.Contains("KubernetesApiStandInOptions.Token", token.Message, StringComparison.Ordinal);
        await using var server = await KubernetesApiStandIn.StartAsync();
        server.Apply(Fixture.Pod("a"));
        long before = server.ResourceVersion;
        using var client = new ApiClient(server);

        (int list, JsonNode? listBody, _) = await client.GetAsync("api/v1/namespaces/team/pods?resourceVersion=abc");
        (int watch, _, _) = await client.GetAsync("api/v1/namespaces/team/pods?watch=true&resourceVersion=-1");
        (int limit, _, _) = await client.GetAsync("api/v1/namespaces/team/pods?limit=x");
        (int future, JsonNode? futureBody, _) = await client.GetAsync($"api/v1/namespaces/team/pods?resourceVersion={before + 5}");
        using HttpResponseMessage post = await client.Http.PostAsync("api/v1/namespaces/team/pods", new StringContent("{}"));

        Assert.Equal(400, list);
        Assert.Equal("invalid resource version: abc", listBody!["message"]!.GetValue<string>());
        Assert.Equal(400, watch);
        Assert.Equal(400, limit);
        Assert.Equal(504, future);
        Assert.Equal($"Too large resource version: {before + 5}, current: {before}", futureBody!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Throws<ArgumentOutOfRangeException>(() => server.CompactBefore(before + 1));
        Assert.Throws<ArgumentException>(() => server.Delete("Service", "team", "a"));
        Assert.Equal(before, server.ResourceVersion);
        Assert.Equal(0, server.OpenWatchCount);
    }

    [Theory]
    [InlineData("core.v1.Pod.json", "pods", "api/v1/namespaces/namespaceValue/pods/nameValue")]
    [InlineData("discovery.k8s.io.v1.EndpointSlice.json", "endpointslices", "apis/discovery.k8s.io/v1/namespaces/namespaceValue/endpointslices/nameValue")]
    public async Task RecordedUpstreamObjects_RoundTripExceptServerOwnedFields(string file, string resource, string path)
    {
        await using var server = await KubernetesApiStandIn.StartAsync();
        JsonObject recorded = Fixture.TestData(file);
        using var client = new ApiClient(server);

        JsonObject stored = server.Apply(recorded);
        (int status, JsonNode? served, _) = await client.GetAsync(path);
        (_, JsonNode? list, _) = await client.GetAsync(path[..path.LastIndexOf('/')]);

        Assert.Equal(200, status);
        Assert.True(JsonNode.DeepEquals(Fixture.WithoutServerFields(recorded), Fixture.WithoutServerFields(served!.AsObject())), served.ToJsonString());
        Assert.True(JsonNode.DeepEquals(stored, served));
        Assert.NotEqual(recorded["metadata"]!["uid"]!.GetValue<string>(), served["metadata"]!["uid"]!.GetValue<string>());
        Assert.Equal(server.ResourceVersion.ToString(CultureInfo.InvariantCulture), Rv(served));
        JsonObject item = Assert.Single(list!["items"]!.AsArray())!.AsObject();
        Assert.Equal(resource, server.Calls[^1].Resource);
        item["kind"] = recorded["kind"]!.DeepClone();
        item["apiVersion"] = recorded["apiVersion"]!.DeepClone();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(stored.ToJsonString()), item));
    }
}

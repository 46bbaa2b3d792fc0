using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GracefulShutdown.Kubernetes.Testing.Internal;

/// <summary>
/// The stand-in's "etcd plus watch cache": objects by (resource, namespace, name), one global resourceVersion
/// counter, the history of changes since the last compaction (to serve watches from a resourceVersion) and the open
/// watches. Every read and write of a <see cref="JsonObject"/> happens under <see cref="_gate"/>; callers get clones
/// or serialized text.
/// </summary>
internal sealed class ObjectStore
{
    public static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Lock _gate = new();
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _bookmarkInterval;
    private readonly Dictionary<(ResourceType Resource, string Namespace, string Name), JsonObject> _objects = [];
    private readonly List<Change> _history = [];
    private readonly List<WatchStream> _watches = [];

    // etcd's revision: every write anywhere bumps it. Starts above 0 so "0" never names a real state.
    private long _revision = 1;

    // Watches and consistent reads from a resourceVersion below this are "too old" (410 Expired).
    private long _oldestServable = 1;

    private readonly int _maxHistory;

    public ObjectStore(TimeProvider timeProvider, TimeSpan bookmarkInterval, int maxHistory)
    {
        _timeProvider = timeProvider;
        _bookmarkInterval = bookmarkInterval;
        _maxHistory = maxHistory;
    }

    public long Revision
    {
        get
        {
            lock (_gate)
            {
                return _revision;
            }
        }
    }

    public int OpenWatchCount
    {
        get
        {
            lock (_gate)
            {
                return _watches.Count;
            }
        }
    }

    public JsonObject Apply(JsonObject input)
    {
        string? kind = input["kind"]?.GetValue<string>();
        string? apiVersion = input["apiVersion"]?.GetValue<string>();
        ResourceType resource = ResourceType.ByKind(kind, apiVersion)
            ?? throw new ArgumentException($"Only Pod (v1) and EndpointSlice (discovery.k8s.io/v1) are served, not kind '{kind}' apiVersion '{apiVersion}'.", nameof(input));
        JsonObject obj = input.DeepClone().AsObject();
        obj["apiVersion"] = resource.ApiVersion;
        if (obj["metadata"] is not JsonObject metadata)
        {
            throw new ArgumentException("The object has no metadata.", nameof(input));
        }

        string name = metadata["name"]?.GetValue<string>() is { Length: > 0 } n
            ? n
            : throw new ArgumentException("metadata.name is required.", nameof(input));
        string ns = metadata["namespace"]?.GetValue<string>() is { Length: > 0 } s ? s : "default";
        metadata["namespace"] = ns;

        lock (_gate)
        {
            var key = (resource, ns, name);
            _objects.TryGetValue(key, out JsonObject? previous);
            long revision = ++_revision;

            // Server-owned fields: a replace keeps identity and age, a create gets new ones.
            metadata["uid"] = previous?["metadata"]?["uid"]?.DeepClone() ?? Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = previous?["metadata"]?["creationTimestamp"]?.DeepClone()
                ?? _timeProvider.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            metadata["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture);
            _objects[key] = obj;
            Record(new Change(revision, previous is null ? "ADDED" : "MODIFIED", resource, obj.DeepClone().AsObject(), previous));
            return obj.DeepClone().AsObject();
        }
    }

    public bool Delete(ResourceType resource, string ns, string name)
    {
        lock (_gate)
        {
            if (!_objects.Remove((resource, ns, name), out JsonObject? previous))
            {
                return false;
            }

            long revision = ++_revision;
            JsonObject last = previous.DeepClone().AsObject();
            last["metadata"]!["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture);
            Record(new Change(revision, "DELETED", resource, last, previous));
            return true;
        }
    }

    public JsonObject? Get(ResourceType resource, string ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue((resource, ns, name), out JsonObject? obj) ? obj.DeepClone().AsObject() : null;
        }
    }

    public string? GetText(ResourceType resource, string ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue((resource, ns, name), out JsonObject? obj) ? obj.ToJsonString(Json) : null;
        }
    }

    public void CompactBefore(long resourceVersion)
    {
        lock (_gate)
        {
            // As etcd: the current revision can never be compacted away, so a client that saw everything never gets 410.
            if (resourceVersion > _revision)
            {
                throw new ArgumentOutOfRangeException(nameof(resourceVersion), resourceVersion, $"Cannot compact beyond the current resourceVersion {_revision}.");
            }

            _oldestServable = Math.Max(_oldestServable, resourceVersion);
            _history.RemoveAll(c => c.Revision <= _oldestServable);
        }
    }

    public void DropWatches(bool abort)
    {
        lock (_gate)
        {
            foreach (WatchStream watch in _watches)
            {
                if (abort)
                {
                    watch.Abort();
                }
                else
                {
                    watch.Dispose();
                }
            }

            _watches.Clear();
        }
    }

    /// <summary>Answers a list (<paramref name="resourceVersion"/> 0: unset or "0"): the List's text, or a status code and message.</summary>
    public ListResult List(ResourceType resource, string? ns, Selector labels, Selector fields, int limit, string? continueToken, long resourceVersion, string? resourceVersionMatch)
    {
        lock (_gate)
        {
            long listRevision = _revision;
            string? after = null;
            if (continueToken is not null)
            {
                if (!ContinueToken.TryRead(continueToken, out long tokenRevision, out after))
                {
                    return ListResult.Error(400, "BadRequest", "continue key is not valid: illegal base64 data");
                }

                if (tokenRevision < _oldestServable)
                {
                    return ListResult.Error(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
                }

                // Later pages report the first page's resourceVersion, as the real server does (it reads that snapshot;
                // this stand-in keeps no snapshots and reads the current state after the token's key).
                listRevision = tokenRevision;
            }
            else if (resourceVersion > 0)
            {
                long requested = resourceVersion;
                if (resourceVersionMatch == "Exact" && requested < _oldestServable)
                {
                    return ListResult.Error(410, "Expired", $"too old resource version: {requested} ({_oldestServable})");
                }

                if (requested > _revision)
                {
                    return ListResult.Error(504, "Timeout", $"Too large resource version: {requested}, current: {_revision}");
                }
            }

            var items = new JsonArray();
            string? lastKey = null;
            bool more = false;
            int remaining = 0;
            foreach (((ResourceType _, string Namespace, string Name) key, JsonObject obj) in Matching(resource, ns, labels, fields))
            {
                string sortKey = SortKey(key.Namespace, key.Name);
                if (after is not null && string.CompareOrdinal(sortKey, after) <= 0)
                {
                    continue;
                }

                if (limit > 0 && items.Count == limit)
                {
                    more = true;
                    remaining++;
                    continue;
                }

                // The real server's list items carry no kind/apiVersion; the List has them.
                JsonObject item = obj.DeepClone().AsObject();
                item.Remove("kind");
                item.Remove("apiVersion");
                items.Add(item);
                lastKey = sortKey;
            }

            var listMetadata = new JsonObject { ["resourceVersion"] = listRevision.ToString(CultureInfo.InvariantCulture) };
            if (more)
            {
                listMetadata["continue"] = ContinueToken.Write(listRevision, lastKey!);
                listMetadata["remainingItemCount"] = remaining;
            }

            var list = new JsonObject
            {
                ["kind"] = resource.ListKind,
                ["apiVersion"] = resource.ApiVersion,
                ["metadata"] = listMetadata,
                ["items"] = items,
            };
            return new ListResult(200, list.ToJsonString(Json), null, null);
        }
    }

    /// <summary>
    /// Opens a watch. Its queue starts with the initial events: synthetic ADDED for every matching object when
    /// <paramref name="resourceVersion"/> is 0 (unset or "0"), else the changes after that resourceVersion, or a single
    /// 410 ERROR event (and the stream ends) when that resourceVersion was compacted away.
    /// </summary>
    public WatchStream OpenWatch(ResourceType resource, string? ns, Selector labels, Selector fields, long resourceVersion, bool bookmarks)
    {
        long requested = resourceVersion;
        var watch = new WatchStream(resource, ns, labels, fields, bookmarks);
        lock (_gate)
        {
            if (requested == 0)
            {
                foreach ((_, JsonObject obj) in Matching(resource, ns, labels, fields))
                {
                    watch.Enqueue(EventLine("ADDED", obj));
                }
            }
            else if (requested < _oldestServable)
            {
                string status = ApiPayloads.Status(410, "Expired", $"too old resource version: {requested} ({_oldestServable})");
                watch.Enqueue($"{{\"type\":\"ERROR\",\"object\":{status}}}");
                watch.Complete();
                return watch;
            }
            else
            {
                foreach (Change change in _history)
                {
                    if (change.Revision > requested)
                    {
                        Deliver(watch, change);
                    }
                }
            }

            if (bookmarks && _bookmarkInterval > TimeSpan.Zero)
            {
                watch.BookmarkTimer = _timeProvider.CreateTimer(_ => Bookmark(watch), null, _bookmarkInterval, _bookmarkInterval);
            }

            _watches.Add(watch);
        }

        return watch;
    }

    public void CloseWatch(WatchStream watch)
    {
        lock (_gate)
        {
            _watches.Remove(watch);
        }

        watch.Dispose();
    }

    private void Bookmark(WatchStream watch)
    {
        lock (_gate)
        {
            // Under the lock: every change up to _revision is already queued ahead of this bookmark.
            var bookmark = new JsonObject
            {
                ["kind"] = watch.Resource.Kind,
                ["apiVersion"] = watch.Resource.ApiVersion,
                ["metadata"] = new JsonObject { ["resourceVersion"] = _revision.ToString(CultureInfo.InvariantCulture), ["creationTimestamp"] = null },
            };
            watch.Enqueue(EventLine("BOOKMARK", bookmark));
        }
    }

    private void Record(Change change)
    {
        _history.Add(change);
        if (_history.Count > _maxHistory)
        {
            // Etcd compacts on its own too: the oldest changes go, and watches from before them get 410.
            int drop = _history.Count - _maxHistory;
            _oldestServable = Math.Max(_oldestServable, _history[drop - 1].Revision);
            _history.RemoveRange(0, drop);
        }

        foreach (WatchStream watch in _watches)
        {
            Deliver(watch, change);
        }
    }

    /// <summary>
    /// Queues a change for a watch as the real server's filtered watch does: an object that starts matching the
    /// selectors is ADDED, one that stops matching is DELETED.
    /// </summary>
    private static void Deliver(WatchStream watch, Change change)
    {
        if (!ReferenceEquals(watch.Resource, change.Resource)
            || (watch.Namespace is not null && watch.Namespace != change.Object["metadata"]!["namespace"]!.GetValue<string>()))
        {
            return;
        }

        bool now = Matches(watch, change.Object);
        bool before = change.Previous is not null && Matches(watch, change.Previous);
        string? type = change.Type switch
        {
            "DELETED" => before ? "DELETED" : null,
            _ when now && before => "MODIFIED",
            _ when now => "ADDED",
            _ when before => "DELETED",
            _ => null,
        };
        if (type is not null)
        {
            watch.Enqueue(EventLine(type, change.Object));
        }
    }

    private static bool Matches(WatchStream watch, JsonObject obj) =>
        watch.Labels.Matches(Selector.Labels(obj)) && watch.Fields.Matches(Selector.Fields(obj));

    private IEnumerable<KeyValuePair<(ResourceType Resource, string Namespace, string Name), JsonObject>> Matching(ResourceType resource, string? ns, Selector labels, Selector fields) =>
        _objects
            .Where(e => ReferenceEquals(e.Key.Resource, resource) && (ns is null || e.Key.Namespace == ns))
            .Where(e => labels.Matches(Selector.Labels(e.Value)) && fields.Matches(Selector.Fields(e.Value)))
            .OrderBy(e => SortKey(e.Key.Namespace, e.Key.Name), StringComparer.Ordinal);

    // etcd's key order (/registry/pods/{namespace}/{name}): what lists are sorted by and continue tokens point into.
    private static string SortKey(string ns, string name) => ns + "/" + name;

    private static string EventLine(string type, JsonObject obj) =>
        $"{{\"type\":\"{type}\",\"object\":{obj.ToJsonString(Json)}}}";

    private sealed record Change(long Revision, string Type, ResourceType Resource, JsonObject Object, JsonObject? Previous);

    /// <summary>An opaque continue token: the first page's resourceVersion and the last key served.</summary>
    private static class ContinueToken
    {
        public static string Write(long revision, string lastKey) =>
            Convert.ToBase64String(Encoding.UTF8.GetBytes(new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = revision, ["start"] = lastKey }.ToJsonString()));

        public static bool TryRead(string token, out long revision, out string lastKey)
        {
            (revision, lastKey) = (0, string.Empty);
            try
            {
                JsonObject? obj = JsonNode.Parse(Convert.FromBase64String(token))?.AsObject();
                if (obj?["rv"] is JsonValue rv && rv.TryGetValue(out long r) && obj["start"] is JsonValue start && start.TryGetValue(out string? s))
                {
                    (revision, lastKey) = (r, s);
                    return true;
                }
            }
            catch (Exception ex) when (ex is FormatException or JsonException or InvalidOperationException)
            {
            }

            return false;
        }
    }
}

/// <summary>The outcome of a list: 200 with the List's text, or an error status.</summary>
internal sealed record ListResult(int StatusCode, string? Body, string? Reason, string? Message)
{
    public static ListResult Error(int code, string reason, string message) => new(code, null, reason, message);
}

using System.Text.Json.Nodes;

namespace GracefulShutdown.Kubernetes.Testing.Internal;

/// <summary>
/// Label and field selectors as the API server parses them: equality (<c>k=v</c>, <c>k==v</c>, <c>k!=v</c>) and, for
/// labels, set-based terms (<c>k in (a,b)</c>, <c>k notin (a,b)</c>, <c>k</c>, <c>!k</c>), comma-separated, all must hold.
/// </summary>
internal sealed class Selector
{
    private readonly List<Func<Func<string, string?>, bool>> _terms = [];

    public static readonly Selector Everything = new();

    public bool IsEmpty => _terms.Count == 0;

    public bool Matches(Func<string, string?> lookup) => _terms.TrueForAll(t => t(lookup));

    /// <summary>Parses a label selector; <see langword="null"/> with an error message when it is not valid.</summary>
    public static Selector? ParseLabels(string? text, out string? error) => Parse(text, allowSets: true, allowedKeys: null, out error);

    /// <summary>Parses a field selector over the given field paths.</summary>
    public static Selector? ParseFields(string? text, IReadOnlySet<string> allowedKeys, out string? error) => Parse(text, allowSets: false, allowedKeys, out error);

    /// <summary>Looks up a label of an object (for label selectors).</summary>
    public static Func<string, string?> Labels(JsonObject obj) =>
        key => obj["metadata"]?["labels"]?[key] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    /// <summary>Looks up a dotted field path of an object as text (for field selectors); missing fields read as empty.</summary>
    public static Func<string, string?> Fields(JsonObject obj) => path =>
    {
        JsonNode? node = obj;
        foreach (string part in path.Split('.'))
        {
            node = node is JsonObject o ? o[part] : null;
        }

        return node switch
        {
            null => string.Empty,
            JsonValue v when v.TryGetValue(out string? s) => s,
            JsonValue v when v.TryGetValue(out bool b) => b ? "true" : "false",
            _ => node.ToJsonString(),
        };
    };

    private static Selector? Parse(string? text, bool allowSets, IReadOnlySet<string>? allowedKeys, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }

        var selector = new Selector();
        foreach (string raw in SplitTerms(text))
        {
            string term = raw.Trim();
            if (!TryParseTerm(term, allowSets, out Func<Func<string, string?>, bool>? predicate, out string key))
            {
                error = allowSets ? $"unable to parse requirement: found '{term}'" : $"invalid selector: '{text}'; can't understand '{term}'";
                return null;
            }

            if (allowedKeys is not null && !allowedKeys.Contains(key))
            {
                error = $"field label not supported: {key}";
                return null;
            }

            selector._terms.Add(predicate!);
        }

        return selector;
    }

    private static IEnumerable<string> SplitTerms(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }

    private static bool TryParseTerm(string term, bool allowSets, out Func<Func<string, string?>, bool>? predicate, out string key)
    {
        predicate = null;
        key = string.Empty;
        if (term.Length == 0)
        {
            return false;
        }

        int notEquals = term.IndexOf("!=", StringComparison.Ordinal);
        if (notEquals > 0)
        {
            (key, string value) = (term[..notEquals].Trim(), term[(notEquals + 2)..].Trim());
            string k = key;
            predicate = lookup => lookup(k) != value;
            return IsKey(key);
        }

        int equals = term.IndexOf('=', StringComparison.Ordinal);
        if (equals > 0)
        {
            key = term[..equals].Trim();
            string value = term[(equals + 1)..].TrimStart('=').Trim();
            string k = key;
            predicate = lookup => lookup(k) == value;
            return IsKey(key);
        }

        if (!allowSets)
        {
            return false;
        }

        if (term.StartsWith('!'))
        {
            key = term[1..].Trim();
            string k = key;
            predicate = lookup => lookup(k) is null;
            return IsKey(key);
        }

        string[] words = term.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 1)
        {
            key = words[0];
            string k = key;
            predicate = lookup => lookup(k) is not null;
            return IsKey(key);
        }

        key = words[0];
        string rest = words[1];
        bool notIn = rest.StartsWith("notin", StringComparison.Ordinal);
        if (!notIn && !rest.StartsWith("in", StringComparison.Ordinal))
        {
            return false;
        }

        string list = rest[(notIn ? 5 : 2)..].Trim();
        if (!list.StartsWith('(') || !list.EndsWith(')'))
        {
            return false;
        }

        HashSet<string> values = [.. list[1..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
        string setKey = key;
        predicate = notIn
            ? lookup => lookup(setKey) is not string v || !values.Contains(v)
            : lookup => lookup(setKey) is string v && values.Contains(v);
        return IsKey(key);
    }

    private static bool IsKey(string key) => key.Length > 0 && !key.Contains(' ', StringComparison.Ordinal);
}

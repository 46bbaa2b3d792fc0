using System.Threading.Channels;

namespace GracefulShutdown.Kubernetes.Testing.Internal;

/// <summary>
/// One open watch: what it selects and the queue of event lines for its response. Lines are queued under the
/// store's lock, so every watch sees events (and bookmarks) in resourceVersion order; the response writes them out.
/// </summary>
internal sealed class WatchStream : IDisposable
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    public WatchStream(ResourceType resource, string? @namespace, Selector labels, Selector fields, bool bookmarks)
    {
        Resource = resource;
        Namespace = @namespace;
        Labels = labels;
        Fields = fields;
        Bookmarks = bookmarks;
    }

    public ResourceType Resource { get; }

    public string? Namespace { get; }

    public Selector Labels { get; }

    public Selector Fields { get; }

    public bool Bookmarks { get; }

    public ITimer? BookmarkTimer { get; set; }

    public ChannelReader<string> Lines => _lines.Reader;

    public void Enqueue(string line) => _lines.Writer.TryWrite(line);

    /// <summary>Gets a value indicating whether the stream was ended by <see cref="Abort"/> (reset, not a clean end).</summary>
    public bool Aborted { get; private set; }

    /// <summary>Ends the stream as a crashed server or a cut network does: the response writer resets the connection.</summary>
    public void Abort()
    {
        Aborted = true;
        Dispose();
    }

    /// <summary>Ends the stream after the lines already queued.</summary>
    public void Complete() => _lines.Writer.TryComplete();

    public void Dispose()
    {
        BookmarkTimer?.Dispose();
        Complete();
    }
}

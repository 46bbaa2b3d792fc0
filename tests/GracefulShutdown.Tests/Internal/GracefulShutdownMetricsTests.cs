using System.Diagnostics.Metrics;
using GracefulShutdown.Internal;

namespace GracefulShutdown.Tests.Internal;

public sealed class GracefulShutdownMetricsTests
{
    [Fact]
    public void Instruments_HaveStableNamesUnitsAndDescriptions()
    {
        using var meters = new TestMeterFactory();
        var published = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == meters)
                {
                    published.Add(instrument);
                }
            },
        };
        listener.Start();

        _ = new GracefulShutdownMetrics(meters, () => 3, () => 2);

        Assert.Equal(
            [
                ("graceful_shutdown.drain.aborted_requests", "{request}"),
                ("graceful_shutdown.drain.duration", "s"),
                ("graceful_shutdown.drain.requests", "{request}"),
                ("graceful_shutdown.phase", null),
                ("graceful_shutdown.requests.in_flight", "{request}"),
                ("graceful_shutdown.traffic_wait.duration", "s"),
            ],
            published.Select(i => (i.Name, i.Unit)).OrderBy(p => p.Name, StringComparer.Ordinal));
        Assert.All(published, i => Assert.False(string.IsNullOrWhiteSpace(i.Description)));
        Assert.All(published, i => Assert.Equal(GracefulShutdownMetrics.MeterName, i.Meter.Name));
    }
}

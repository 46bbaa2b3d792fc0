using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;

namespace GracefulShutdown.Tests.Diagnostics;

public sealed class MetricsTests
{
    [Fact]
    public void Instruments_HaveStableNamesUnitsAndDescriptions()
    {
        using var lifecycle = new TestLifecycle(new FakeTimeProvider(), new GracefulShutdownOptions());
        var published = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == lifecycle.Meters)
                {
                    published.Add(instrument);
                }
            },
        };
        listener.Start();

        // The metrics class creates every instrument; the observable ones come with the state they observe.
        _ = lifecycle.State;
        _ = lifecycle.Requests;
        _ = lifecycle.Services.GetService(typeof(GracefulShutdown.Work.WorkTracker));

        Assert.Equal(
            [
                ("graceful_shutdown.drain.aborted_requests", "{request}"),
                ("graceful_shutdown.drain.duration", "s"),
                ("graceful_shutdown.drain.requests", "{request}"),
                ("graceful_shutdown.health_checker.held", "{checker}"),
                ("graceful_shutdown.health_checker.let_go", "s"),
                ("graceful_shutdown.phase", null),
                ("graceful_shutdown.requests.in_flight", "{request}"),
                ("graceful_shutdown.traffic_wait.duration", "s"),
                ("graceful_shutdown.traffic_wait.last_arrival", "s"),
                ("graceful_shutdown.websockets.aborted", "{websocket}"),
                ("graceful_shutdown.websockets.closed", "{websocket}"),
                ("graceful_shutdown.work.in_progress", "{unit}"),
            ],
            published.Select(i => (i.Name, i.Unit)).OrderBy(p => p.Name, StringComparer.Ordinal));
        Assert.All(published, i => Assert.False(string.IsNullOrWhiteSpace(i.Description)));
        Assert.All(published, i => Assert.Equal(GracefulShutdownTelemetry.MeterName, i.Meter.Name));
    }
}

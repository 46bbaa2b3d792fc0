using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;

namespace GracefulShutdown.GrpcRollout;

/// <summary>One rolling update (maxSurge 1, maxUnavailable 0) of one variant behind one balancer, under load.</summary>
internal static class Rollout
{
    public static async Task<RunResult> RunAsync(string mode, string variant, Settings settings, CancellationToken cancellationToken)
    {
        string label = $"{mode}-{variant}";
        Log.Info($"== {mode} / {variant} ==");
        await using IBalancer balancer = mode == "haproxy"
            ? await HAProxyBalancer.StartAsync(settings, label)
            : new ClientSideBalancer();

        int serial = 0;
        var live = new List<Replica>();
        for (int i = 0; i < settings.Replicas; i++)
        {
            live.Add(Replica.Start($"r{++serial}", variant, settings, label));
        }

        foreach (Replica r in live)
        {
            await r.WaitReadyAsync(settings.ReadyTimeout, cancellationToken);
            await balancer.AddAsync(r);
        }

        Log.Info($"  {live.Count} replicas ready: {string.Join(", ", live.Select(r => $"{r.Name}:{r.Port} (pid {r.Process.Id})"))}");
        using GrpcChannel channel = balancer.CreateChannel();
        var load = new Load();
        load.Start(channel, settings.Rate, settings.Workers);
        await Task.Delay(settings.Settle, cancellationToken);

        var terminations = new List<(Termination Record, Replica Replica, Task Done)>();
        for (int round = 1; round <= settings.Rounds; round++)
        {
            var thisRound = new List<Task>();
            for (int i = 0; i < live.Count; i++)
            {
                Replica old = live[i];
                Replica fresh = Replica.Start($"r{++serial}", variant, settings, label);
                await fresh.WaitReadyAsync(settings.ReadyTimeout, cancellationToken);
                await balancer.AddAsync(fresh);
                live[i] = fresh;
                bool probe = settings.Probes && variant == "library" && round == 1 && i == 0;
                Log.Info($"  round {round}: {fresh.Name} ready after {fresh.ReadyAfter:F2} s and added; terminating {old.Name}{(probe ? " (with Watch and stream probes)" : "")}");
                var record = new Termination(old.Name, round);
                Task done = Kubelet.TerminateAsync(old, record, balancer, settings, probe, cancellationToken);
                terminations.Add((record, old, done));
                thisRound.Add(done);

                // maxUnavailable 0: the next replacement starts once the old replica has gone.
                await done;
            }

            await Task.WhenAll(thisRound);
        }

        await Task.Delay(settings.Settle, cancellationToken);
        await load.StopAsync();
        foreach (Replica r in live)
        {
            Children.Signal(r.Process, 2);
        }

        foreach (Replica r in live)
        {
            if (!r.Process.WaitForExit(20_000))
            {
                r.Process.Kill();
            }
        }

        CallRecord[] records = [.. load.Records];
        foreach ((Termination record, Replica replica, _) in terminations)
        {
            string pid = replica.Process.Id.ToString(CultureInfo.InvariantCulture);
            CallRecord[] after = [.. records.Where(c => c.ServedBy == pid && c.End >= record.BeganAt)];
            record.CallsAfterDrainBegan = after.Length;
            record.LastCallAfter = after.Length > 0 ? after.Max(c => c.End) - record.BeganAt : null;
        }

        CallRecord[] failed = [.. records.Where(c => c.Status != StatusCode.OK)];
        double[] latencies = [.. records.Where(c => c.Status == StatusCode.OK).Select(c => (c.End - c.Start) * 1000).Order()];
        return new RunResult(mode, variant, records.Length, records.Length / load.Seconds, failed.Length,
            failed.GroupBy(c => c.Status.ToString()).ToDictionary(g => g.Key, g => (long)g.Count()),
            [.. failed.Take(5).Select(c => $"{c.Status} at {c.End:F2} s: {c.Detail}")],
            [.. terminations.Select(t => t.Record)],
            latencies.Length == 0 ? 0 : latencies[(int)Math.Min(latencies.Length - 1, Math.Ceiling(latencies.Length * 0.99) - 1)]);
    }
}

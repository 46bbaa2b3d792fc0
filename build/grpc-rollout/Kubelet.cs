using GracefulShutdown.GrpcSample;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace GracefulShutdown.GrpcRollout;

/// <summary>Terminates a replica the way kubelet does, and times what its clients see.</summary>
internal static class Kubelet
{
    /// <summary>Kubernetes termination without a preStop hook: SIGTERM, endpoint removal after L, SIGKILL at the grace period.</summary>
    public static async Task TerminateAsync(Replica replica, Termination record, IBalancer balancer, Settings settings, bool probe,
        CancellationToken cancellationToken)
    {
        GrpcChannel? direct = null;
        AsyncServerStreamingCall<HealthCheckResponse>? watch = null;
        AsyncServerStreamingCall<Tick>? stream = null;
        if (probe)
        {
            direct = GrpcChannel.ForAddress(replica.Address);
            watch = new Health.HealthClient(direct).Watch(new HealthCheckRequest());
            await watch.ResponseStream.MoveNext(cancellationToken);
            stream = new Greeter.GreeterClient(direct).StreamTicks(new TickRequest { Count = 0, IntervalMs = 50 });
            await stream.ResponseStream.MoveNext(cancellationToken);
        }

        double began = Log.Now;
        record.BeganAt = began;
        Children.Signal(replica.Process, Replica.SIGTERM);

        Task removal = Task.Run(async () =>
        {
            await Task.Delay(settings.Lag, cancellationToken);
            await balancer.RemoveAsync(replica);
        }, cancellationToken);

        Task? watchDone = watch is null ? null : Task.Run(async () =>
        {
            try
            {
                while (await watch.ResponseStream.MoveNext())
                {
                    if (watch.ResponseStream.Current.Status == HealthCheckResponse.Types.ServingStatus.NotServing)
                    {
                        record.WatchNotServingMs = (Log.Now - began) * 1000;
                        return;
                    }
                }
            }
            catch (RpcException)
            {
            }
        }, cancellationToken);

        Task? streamDone = stream is null ? null : Task.Run(async () =>
        {
            try
            {
                while (await stream.ResponseStream.MoveNext())
                {
                }

                record.StreamStatus = "OK";
            }
            catch (RpcException ex)
            {
                record.StreamStatus = ex.StatusCode.ToString();
            }

            record.StreamEndedAfter = Log.Now - began;
        }, cancellationToken);

        using var exited = new CancellationTokenSource(settings.Grace);
        try
        {
            await replica.Process.WaitForExitAsync(exited.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            replica.Process.Kill();
            await replica.Process.WaitForExitAsync(cancellationToken);
            record.Killed = true;
        }

        record.ExitAfter = Log.Now - began;
        record.ExitCode = replica.Process.ExitCode;
        await removal;
        foreach (Task? t in new[] { watchDone, streamDone })
        {
            if (t is not null)
            {
                await t.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }

        watch?.Dispose();
        stream?.Dispose();
        direct?.Dispose();
        Log.Info($"    {replica.Name} exited {record.ExitCode}{(record.Killed ? " (SIGKILL)" : "")} {record.ExitAfter:F2} s after SIGTERM" +
            (probe ? $"; Watch NOT_SERVING after {record.WatchNotServingMs:F1} ms; stream {record.StreamStatus} after {record.StreamEndedAfter:F2} s" : ""));
    }
}

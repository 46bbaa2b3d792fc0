using System.Collections.Concurrent;
using System.Diagnostics;
using GracefulShutdown.GrpcSample;
using Grpc.Core;
using Grpc.Net.Client;

namespace GracefulShutdown.GrpcRollout;

/// <summary>Unary SayHello calls at a fixed rate from a fixed number of workers, every outcome recorded.</summary>
internal sealed class Load
{
    private readonly ConcurrentQueue<CallRecord> _records = new();
    private readonly List<Task> _workers = [];
    private readonly CancellationTokenSource _stop = new();
    private long _startedAt;

    public IReadOnlyCollection<CallRecord> Records => _records;

    public double Seconds { get; private set; }

    public void Start(GrpcChannel channel, int rate, int workers)
    {
        var client = new Greeter.GreeterClient(channel);
        _startedAt = Stopwatch.GetTimestamp();
        TimeSpan interval = TimeSpan.FromSeconds((double)workers / rate);
        for (int w = 0; w < workers; w++)
        {
            TimeSpan offset = interval * w / workers;
            _workers.Add(Task.Run(() => WorkAsync(client, interval, offset, _stop.Token)));
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
        Seconds = Stopwatch.GetElapsedTime(_startedAt).TotalSeconds;
    }

    private async Task WorkAsync(Greeter.GreeterClient client, TimeSpan interval, TimeSpan offset, CancellationToken stop)
    {
        long next = _startedAt + (long)(offset.TotalSeconds * Stopwatch.Frequency);
        long step = (long)(interval.TotalSeconds * Stopwatch.Frequency);
        var request = new HelloRequest { Name = "rollout" };
        while (!stop.IsCancellationRequested)
        {
            long wait = next - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            next += step;
            double started = Log.Now;
            using AsyncUnaryCall<HelloReply> call = client.SayHelloAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
            try
            {
                await call.ResponseAsync;
                _records.Enqueue(new CallRecord(started, Log.Now, StatusCode.OK, call.GetTrailers().GetValue("served-by"), null));
            }
            catch (RpcException ex)
            {
                _records.Enqueue(new CallRecord(started, Log.Now, ex.StatusCode, null, ex.Status.Detail));
            }
        }
    }
}

using BenchmarkDotNet.Running;
using GracefulShutdown.Benchmarks;

// --kestrel-alloc [requests] [warm-up] [rounds]: bytes allocated per request through real Kestrel, with and without the
// library (KestrelAllocation.cs). Anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == KestrelAllocation.Switch)
{
    return await KestrelAllocation.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(RequestPathBenchmarks).Assembly).Run(args);
return 0;

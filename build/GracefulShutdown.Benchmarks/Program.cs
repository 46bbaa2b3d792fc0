using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(GracefulShutdown.Benchmarks.RequestPathBenchmarks).Assembly).Run(args);

using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;

namespace GracefulShutdown.GrpcRollout;

/// <summary>The command line: modes, variants, rounds, load, timings; <c>--short</c> is the CI run.</summary>
internal sealed class Settings
{
    public string[] Modes { get; private set; } = ["haproxy", "client"];
    public string[] Variants { get; private set; } = ["plain", "library"];
    public int Rounds { get; private set; } = 2;
    public int Replicas { get; private set; } = 2;
    public int Rate { get; private set; } = 400;
    public int Workers { get; private set; } = 16;
    public TimeSpan Lag { get; private set; } = TimeSpan.FromSeconds(1);
    public TimeSpan Grace { get; private set; } = TimeSpan.FromSeconds(30);
    public TimeSpan Settle { get; private set; } = TimeSpan.FromSeconds(2);
    public TimeSpan ReadyTimeout { get; private set; } = TimeSpan.FromSeconds(60);
    public bool Probes { get; private set; } = true;
    public bool Short { get; private set; }
    public List<string> AppArgs { get; } = [];
    public string Dll { get; private set; } = typeof(Settings).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SampleDll").Value!;
    public string Out { get; private set; } = Path.Combine(FindRepo(), "artifacts", "grpc-rollout");

    public static Settings Parse(string[] args)
    {
        var s = new Settings();

        // --key=value is the same as --key value.
        args = [.. args.SelectMany(static a => a.StartsWith("--", StringComparison.Ordinal) && a.IndexOf('=', StringComparison.Ordinal) is > 2 and int eq
            ? new[] { a[..eq], a[(eq + 1)..] }
            : [a])];
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            switch (a)
            {
                case "--short":
                    // CI: library only, one round, both modes; exits 1 on any failed call.
                    s.Short = true;
                    s.Variants = ["library"];
                    s.Rounds = 1;
                    s.Settle = TimeSpan.FromSeconds(1.5);
                    break;
                case "--modes": s.Modes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--variants": s.Variants = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--rounds": s.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--replicas": s.Replicas = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rate": s.Rate = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--workers": s.Workers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--lag": s.Lag = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--grace": s.Grace = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--settle": s.Settle = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--no-probes": s.Probes = false; break;
                case "--app-arg": s.AppArgs.Add(Next()); break;
                case "--dll": s.Dll = Next(); break;
                case "--out": s.Out = Next(); break;
                default: throw new ArgumentException($"unknown option {a}");
            }
        }

        foreach (string m in s.Modes)
        {
            if (m is not ("haproxy" or "client"))
            {
                throw new ArgumentException($"--modes: '{m}' is not haproxy or client");
            }
        }

        foreach (string v in s.Variants)
        {
            if (v is not ("plain" or "library"))
            {
                throw new ArgumentException($"--variants: '{v}' is not plain or library");
            }
        }

        return s;
    }

    public object Describe() => new
    {
        Modes,
        Variants,
        Rounds,
        Replicas,
        Rate,
        Workers,
        LagSeconds = Lag.TotalSeconds,
        GraceSeconds = Grace.TotalSeconds,
        SettleSeconds = Settle.TotalSeconds,
        Probes,
        AppArgs,
        Machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}",
    };

    private static string FindRepo()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "GracefulShutdown.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? Directory.GetCurrentDirectory();
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GracefulShutdown.GrpcRollout;

/// <summary>Every child process, killed when the harness ends.</summary>
internal static partial class Children
{
    private static readonly ConcurrentBag<Process> All = [];

    public static Process Start(string file, IEnumerable<string> arguments, string logFile, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment.Remove("KUBERNETES_SERVICE_HOST");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var gate = new Lock();
        void Write(string? line)
        {
            if (line is not null)
            {
                lock (gate)
                {
                    log.WriteLine(line);
                }
            }
        }

        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.Exited += (_, _) =>
        {
            process.WaitForExit();
            lock (gate)
            {
                log.Dispose();
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        All.Add(process);
        return process;
    }

    public static void Signal(Process process, int signal)
    {
        if (!process.HasExited)
        {
            _ = kill(process.Id, signal);
        }
    }

    public static void KillAll()
    {
        foreach (Process p in All)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}

using System.Diagnostics;
using GracefulShutdown.Testing.Processes;

namespace GracefulShutdown.IntegrationTests;

/// <summary>
/// The sample app as a real child process on 127.0.0.1, with its log lines observable as events and real signals.
/// </summary>
internal sealed class SampleProcess : SampleProcessBase
{
    private SampleProcess(Process process)
        : base(process)
    {
    }

    /// <summary>Gets the management port's address when started with <see cref="StartWithManagementPortAsync"/>.</summary>
    public Uri? ManagementAddress { get; private set; }

    /// <summary>
    /// Starts the sample. Returns once the server listens and, with the library, once the app is ready (its warm-up requests
    /// hold readiness for a moment), unless <paramref name="waitUntilListening"/> is false.
    /// </summary>
    public static Task<SampleProcess> StartAsync(IEnumerable<string>? arguments = null, IDictionary<string, string>? environment = null,
        string urls = "http://127.0.0.1:0", bool waitUntilListening = true) =>
        StartProcessAsync(process => new SampleProcess(process), "GracefulShutdown.Sample", arguments, environment, urls, waitUntilListening);

    /// <summary>
    /// Starts the sample with <c>GracefulShutdown:ManagementPort</c> set: the app port is port 0, read back; the management
    /// port has to be a number in the options before the server binds, so it is chosen free and, should another process take it
    /// before the sample binds it, chosen again (the sample then exits with an <c>AddressInUseException</c>).
    /// </summary>
    public static async Task<SampleProcess> StartWithManagementPortAsync(IEnumerable<string>? arguments = null,
        IDictionary<string, string>? environment = null)
    {
        const int Attempts = 5;
        string[] given = arguments?.ToArray() ?? [];
        for (int attempt = 1; ; attempt++)
        {
            int managementPort = FreePort();
            SampleProcess sample = await StartAsync([.. given, $"--GracefulShutdown:ManagementPort={managementPort}"], environment,
                urls: $"http://127.0.0.1:0;http://127.0.0.1:{managementPort}", waitUntilListening: false);
            Task started = sample.WaitUntilStartedAsync(useLibrary: true);
            if (await Task.WhenAny(started, sample.Exited) == sample.Exited && attempt < Attempts &&
                sample.Output.Contains("AddressInUseException", StringComparison.Ordinal))
            {
                await sample.DisposeAsync();
                continue;
            }

            await started;
            sample.ManagementAddress = sample.Addresses.Single(a => a.Port == managementPort);
            sample.BaseAddress = sample.Addresses.First(a => a.Port != managementPort);
            return sample;
        }
    }

    public static HttpClient CreateClient(Uri baseAddress) =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = baseAddress, Timeout = DefaultTimeout };
}

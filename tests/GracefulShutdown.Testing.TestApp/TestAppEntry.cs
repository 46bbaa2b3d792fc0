namespace GracefulShutdown.Testing.TestApp;

/// <summary>A type in the app's entry assembly for <c>Rollout.RunAsync&lt;TestAppEntry&gt;</c> (the app's <c>Program</c> is top level).</summary>
public sealed class TestAppEntry;

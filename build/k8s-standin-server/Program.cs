using System.Text.Json.Nodes;
using GracefulShutdown.Kubernetes.Testing;

// The Kubernetes API stand-in (tests/GracefulShutdown.Kubernetes.Testing) as a process: a harness in another language plays
// the control plane through it. Usage: K8sStandInServer <kubeconfig path>. It starts the stand-in (HTTPS, port 0), writes
// the kubeconfig (server, CA, token), prints "ready <base address>", then reads one command a line from stdin:
//   {"kind":"Pod",...}                      applied (create or replace; watches see ADDED or MODIFIED)
//   delete <kind> <namespace> <name>        deleted (watches see DELETED)
// and answers each with "ok <resourceVersion>" or "error <message>". It stops at the end of stdin.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: K8sStandInServer <kubeconfig path>");
    return 2;
}

await using KubernetesApiStandIn api = await KubernetesApiStandIn.StartAsync();
api.WriteKubeconfig(Path.GetFullPath(args[0]));
Console.WriteLine($"ready {api.BaseAddress}");
while (await Console.In.ReadLineAsync() is string line)
{
    line = line.Trim();
    if (line.Length == 0)
    {
        continue;
    }

    try
    {
        if (line.StartsWith("delete ", StringComparison.Ordinal))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 4)
            {
                throw new FormatException("expected: delete <kind> <namespace> <name>");
            }

            api.Delete(parts[1], parts[2], parts[3]);
        }
        else
        {
            api.Apply(JsonNode.Parse(line) as JsonObject ?? throw new FormatException("the line is not a JSON object"));
        }

        Console.WriteLine($"ok {api.ResourceVersion}");
    }
    catch (Exception ex) when (ex is FormatException or ArgumentException or System.Text.Json.JsonException)
    {
        Console.WriteLine("error " + ex.Message.ReplaceLineEndings(" "));
    }
}

return 0;

// Drives the third-party @kubernetes/client-node against a Kubernetes API server (the in-process stand-in in our
// tests). One line per thing the client saw, on stdout, so the test can wait on each line.
//
//   node script.mjs informers <kubeconfig> <namespace> <service>
//     Informers (ListWatch) on pods in <namespace> and on endpointslices labelled kubernetes.io/service-name=<service>,
//     plus a raw Watch on pods with allowWatchBookmarks=true. Prints
//       POD|SLICE ADDED|UPDATED|DELETED <name> <resourceVersion> <detail>, CONNECT pods|slices, ERROR pods|slices <message>,
//       RAW <type> <name or -> <resourceVersion or code>, RAWDONE <error or ok>, then READY once both informers run.
//     Ends (DONE, exit 0) when stdin closes.
//   node script.mjs read <kubeconfig> <podNamespace> <podName> <sliceNamespace> <sliceName>
//     Reads one Pod and one EndpointSlice through the typed API (CoreV1Api / DiscoveryV1Api) and prints
//     POD <json> and SLICE <json> of what the client deserialized, then DONE.
import * as k8s from '@kubernetes/client-node';
import { createInterface } from 'node:readline';

const [mode, kubeconfig, ...rest] = process.argv.slice(2);
if (!mode || !kubeconfig) {
  console.error('usage: node script.mjs informers|read <kubeconfig> ...');
  process.exit(64);
}

const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const say = (line) => process.stdout.write(line + '\n');

if (mode === 'read') {
  const [podNamespace, podName, sliceNamespace, sliceName] = rest;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  try {
    const pod = await core.readNamespacedPod({ namespace: podNamespace, name: podName });
    say('POD ' + JSON.stringify(pod));
    const slice = await discovery.readNamespacedEndpointSlice({ namespace: sliceNamespace, name: sliceName });
    say('SLICE ' + JSON.stringify(slice));
    say('DONE');
    process.exit(0);
  } catch (err) {
    console.error('READ FAILED', err && (err.code || err.statusCode), err && err.message);
    process.exit(2);
  }
}

const [namespace, service] = rest;
const core = kc.makeApiClient(k8s.CoreV1Api);
const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
const labelSelector = `kubernetes.io/service-name=${service}`;

const pods = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/pods`, () => core.listNamespacedPod({ namespace }));
const slices = k8s.makeInformer(
  kc,
  `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
  () => discovery.listNamespacedEndpointSlice({ namespace, labelSelector }),
  labelSelector,
);

const podDetail = (p) => (p.status && p.status.phase) || '-';
const sliceDetail = (s) =>
  (s.endpoints || []).map((e) => `${(e.addresses || []).join('+')}:${e.conditions && e.conditions.ready}`).join(',') || '-';

function report(prefix, informer, detail) {
  for (const [verb, word] of [[k8s.ADD, 'ADDED'], [k8s.UPDATE, 'UPDATED'], [k8s.DELETE, 'DELETED']]) {
    informer.on(verb, (obj) => say(`${prefix} ${word} ${obj.metadata.name} ${obj.metadata.resourceVersion} ${detail(obj)}`));
  }
  informer.on(k8s.CONNECT, () => say(`CONNECT ${prefix === 'POD' ? 'pods' : 'slices'}`));
  informer.on(k8s.ERROR, (err) => {
    say(`ERROR ${prefix === 'POD' ? 'pods' : 'slices'} ${(err && (err.code || err.statusCode)) || ''} ${(err && err.message) || err}`.replace(/\n/g, ' '));
    // The informer stops on an error it does not handle; start it again as an application would.
    if (!stopping) setTimeout(() => informer.start().catch(() => {}), 100);
  });
}

report('POD', pods, podDetail);
report('SLICE', slices, sliceDetail);

// A raw watch with bookmarks (ListWatch does not ask for them); it resumes from the last resourceVersion it saw.
const watch = new k8s.Watch(kc);
let rawVersion = '';
let rawRequest;
let stopping = false;
async function rawWatch() {
  rawRequest = await watch.watch(
    `/api/v1/namespaces/${namespace}/pods`,
    { allowWatchBookmarks: true, resourceVersion: rawVersion },
    (type, obj) => {
      if (type === 'ERROR') {
        say(`RAW ERROR - ${obj.code} ${obj.reason}`);
        rawVersion = '';
        return;
      }
      say(`RAW ${type} ${type === 'BOOKMARK' ? '-' : obj.metadata.name} ${obj.metadata.resourceVersion}`);
      rawVersion = obj.metadata.resourceVersion;
    },
    (err) => {
      say(`RAWDONE ${err ? (err.statusCode || err.message) : 'ok'}`);
      if (!stopping) setTimeout(rawWatch, 50);
    },
  );
}

await pods.start();
await slices.start();
await rawWatch();
say('READY');

createInterface({ input: process.stdin }).on('close', async () => {
  stopping = true;
  await pods.stop();
  await slices.stop();
  if (rawRequest) rawRequest.abort();
  say('DONE');
  process.exit(0);
});

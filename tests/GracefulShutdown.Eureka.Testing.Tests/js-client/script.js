'use strict';
// Drives the third-party eureka-js-client against a Eureka server (the in-process stand-in in our tests):
// register, a few heartbeats, a full registry fetch, deregister. Prints one "FETCHED <json>" line with what the
// client parsed from the registry, and "DONE" on success. Usage: node script.js http://127.0.0.1:PORT/eureka/
const { Eureka } = require('eureka-js-client');

const baseArg = process.argv[2];
if (!baseArg) {
  console.error('usage: node script.js <eureka base uri>');
  process.exit(64);
}

const base = new URL(baseArg);
const heartbeatsWanted = Number(process.argv[3] || 2);
const servicePath = (base.pathname.endsWith('/') ? base.pathname : base.pathname + '/') + 'apps/';

const log = (level) => (...args) => console.error(`[eureka-js-client ${level}]`, ...args);
const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

const client = new Eureka({
  logger,
  instance: {
    app: 'jsclient',
    instanceId: 'js-client-1',
    hostName: 'localhost',
    ipAddr: '127.0.0.1',
    statusPageUrl: 'http://localhost:3000/info',
    healthCheckUrl: 'http://localhost:3000/health',
    port: { $: 3000, '@enabled': true },
    vipAddress: 'jsclient',
    dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$MyDataCenterInfo', name: 'MyOwn' },
  },
  eureka: {
    host: base.hostname,
    port: Number(base.port),
    servicePath,
    heartbeatInterval: 100,
    registryFetchInterval: 60000,
    maxRetries: 0,
    requestRetryDelay: 100,
  },
});

const watchdog = setTimeout(() => {
  console.error('TIMEOUT: the client did not finish register/heartbeat/fetch/deregister in time');
  process.exit(3);
}, 20000);

let heartbeats = 0;
let stopping = false;

function stop() {
  if (stopping) return;
  stopping = true;
  client.stop((err) => {
    if (err) {
      console.error('DEREGISTER FAILED', err && err.message);
      process.exit(4);
    }
    clearTimeout(watchdog);
    console.log('DONE');
    process.exit(0);
  });
}

client.on('heartbeat', () => {
  heartbeats += 1;
  console.log(`HEARTBEAT ${heartbeats}`);
  if (heartbeats >= heartbeatsWanted && client.hasFullRegistry) stop();
});

client.start((err) => {
  if (err) {
    console.error('START FAILED', err && err.message);
    process.exit(2);
  }
  const instances = client.getInstancesByAppId('JSCLIENT').map((i) => ({
    instanceId: i.instanceId,
    app: i.app,
    status: i.status,
    port: i.port && i.port.$,
    vipAddress: i.vipAddress,
  }));
  const byVip = client.getInstancesByVipAddress('jsclient').length;
  console.log('FETCHED ' + JSON.stringify({ apps: Object.keys(client.cache.app), instances, byVip }));
  if (heartbeats >= heartbeatsWanted) stop();
});

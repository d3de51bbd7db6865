import { RoundRobinProxy } from '../tests/cluster/harness';

/**
 * The round-robin proxy of the "Two API processes" rows of `npm run bench`, in a process of its
 * own (so that it shares no event loop with the load generator): the cluster tests' proxy
 * (tests/cluster/harness.ts) in front of the API ports listed in PROXY_BACKENDS (comma-separated).
 * It prints `proxy listening on <port>` once it accepts connections.
 */

const backends = (process.env.PROXY_BACKENDS ?? '')
  .split(',')
  .map((port) => Number(port.trim()))
  .filter((port) => Number.isInteger(port) && port > 0);
if (backends.length === 0) {
  process.stderr.write('bench/proxy: PROXY_BACKENDS names no port\n');
  process.exit(1);
}

const proxy = new RoundRobinProxy(() => backends);
proxy
  .start()
  .then(() => {
    process.stdout.write(`proxy listening on ${proxy.port}\n`);
  })
  .catch((error: unknown) => {
    process.stderr.write(`bench/proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });

const stop = () => {
  if (proxy.lost > 0 || proxy.retried > 0) process.stderr.write(`bench/proxy: ${proxy.retried} requests retried, ${proxy.lost} lost\n`);
  void proxy.stop().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The receiver of the webhook row of `npm run bench`, in a process of its own (so that it shares
 * no event loop with the load generator): it answers every POST with 200 as soon as the body is
 * read, and keeps the path and `Webhook-Id` of each, so that a delivery is counted once however
 * often it is posted. `GET /count` answers `{ requests, distinct }`; `GET /received` answers
 * `{ requests, keys }`, the keys being "<path> <Webhook-Id>". It prints `receiver listening on
 * <port>` once it accepts connections.
 */

const keys = new Set<string>();
let requests = 0;

function json(res: http.ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') return json(res, { requests, distinct: keys.size });
  if (req.method === 'GET' && req.url === '/received') return json(res, { requests, keys: [...keys] });
  requests += 1;
  keys.add(`${req.url ?? ''} ${String(req.headers['webhook-id'] ?? '')}`);
  // The body is not checked: it is read only so that the answer comes after it, as a real receiver's would.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Length': '0' });
    res.end();
  });
  return undefined;
});

server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`receiver listening on ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});

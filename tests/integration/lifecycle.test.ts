import net from 'node:net';
import { freePort } from '../../src/platform/utils/net';
import { createDatabaseFromTemplate, databaseUrl, dropDatabase } from '../support/database';
import { spawnServer, type ServerProcess } from '../support/server-process';

function startServer(env: Record<string, string>): ServerProcess {
  return spawnServer({ ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', REDIS_URL: '', ...env });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether /health answers 200 on a new request; a refused or dropped connection is a no. */
async function healthy(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/health`).then(
    (res) => res.ok,
    () => false,
  );
}

/** Whether a new connection to the port is refused (or dropped) rather than answered. */
async function refusesConnections(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/health`).then(
    () => false,
    () => true,
  );
}

/**
 * Sends the head and part of a body, so a request is in flight until `finish` is called.
 * `Expect: 100-continue` makes Node answer "100 Continue" as it hands the request to the app:
 * `dispatched` resolves then, when the server has the request for certain.
 */
function slowRequest(port: number): { dispatched: Promise<void>; finish: () => void; response: Promise<string> } {
  const body = JSON.stringify({ email: 'slow@example.com', password: 'not-the-password' });
  const socket = net.connect(port, '127.0.0.1');
  socket.write(
    `POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n${body.slice(0, 10)}`,
  );
  let received = '';
  let onContinue: () => void;
  const dispatched = new Promise<void>((resolve) => (onContinue = resolve));
  const response = new Promise<string>((resolve) => {
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (received.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) onContinue();
    });
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
  });
  // The rest of the body without a FIN: a half-closed client would be dropped by Node's server.
  return { dispatched, finish: () => socket.write(body.slice(10)), response };
}

describe('process lifecycle', () => {
  let name: string;

  beforeAll(async () => {
    name = await createDatabaseFromTemplate();
  });

  afterAll(async () => {
    await dropDatabase(name);
  });

  it('logs one ready line with the API and docs URLs, then drains in-flight requests on SIGTERM and exits 0', async () => {
    const port = await freePort();
    const server = startServer({ DATABASE_URL: databaseUrl(name), PORT: String(port), APP_URL: `http://localhost:${port}` });
    try {
      await waitFor('the server to answer /health', () => healthy(port));
      expect(server.output()).toContain(`API ready at http://localhost:${port}/api, docs at http://localhost:${port}/api/docs`);

      const inFlight = slowRequest(port);
      await inFlight.dispatched;
      server.child.kill('SIGTERM');

      // New connections are refused while the in-flight request is finishing, and the process waits for it.
      await waitFor('the server to refuse new connections', () => refusesConnections(port), 20_000);
      expect(server.child.exitCode).toBeNull();

      inFlight.finish();
      const response = (await inFlight.response).replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
      expect(response).toMatch(/^HTTP\/1\.1 401/);
      expect(response).toContain('INVALID_CREDENTIALS');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 60_000);

  it('exits non-zero before listening when a variable is invalid, naming it', async () => {
    const server = startServer({ DATABASE_URL: databaseUrl(name), PORT: 'not-a-port' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('PORT');
  }, 30_000);

  it('refuses to start in production without real secrets', async () => {
    const server = startServer({ DATABASE_URL: databaseUrl(name), NODE_ENV: 'production', JWT_SECRET: 'short', JWT_REFRESH_SECRET: 'r'.repeat(40) });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('JWT_SECRET');
  }, 30_000);
});

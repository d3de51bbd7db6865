import net from 'node:net';
import { freePort } from '../../src/platform/utils/net';
import { createDatabaseFromTemplate, databaseUrl, dropDatabase } from '../support/database';
import { spawnServer, type ServerProcess } from '../support/server-process';

function startServer(env: Record<string, string>): ServerProcess {
  return spawnServer({ ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', REDIS_URL: '', ...env });
}

async function waitForHealth(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the server did not answer /health in time');
}

/** Sends the head and part of a body, so a request is in flight until `finish` is called. */
function slowRequest(port: number): { finish: () => void; response: Promise<string> } {
  const body = JSON.stringify({ email: 'slow@example.com', password: 'not-the-password' });
  const socket = net.connect(port, '127.0.0.1');
  socket.write(
    `POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
  );
  let received = '';
  const response = new Promise<string>((resolve) => {
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
  });
    // The rest of the body without a FIN: a half-closed client would be dropped by Node's server.
  return { finish: () => socket.write(body.slice(10)), response };
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
      await waitForHealth(port);
      expect(server.output()).toContain(`API ready at http://localhost:${port}/api, docs at http://localhost:${port}/api/docs`);

      const inFlight = slowRequest(port);
      await new Promise((resolve) => setTimeout(resolve, 200));
      server.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(server.child.exitCode).toBeNull();

      // New connections are refused while the in-flight request is finishing.
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();

      inFlight.finish();
      const response = await inFlight.response;
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

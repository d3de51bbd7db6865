import Transport from 'winston-transport';
import request from 'supertest';
import { logger } from '../../src/platform/utils/logger';
import { useTestApp } from '../support/app';
import { tokenFromMail } from '../support/outbox';

/** Keeps every log line written while the test runs. */
class MemoryTransport extends Transport {
  readonly lines: string[] = [];
  override log(info: unknown, callback: () => void): void {
    this.lines.push(JSON.stringify(info));
    callback();
  }
}

describe('log lines', () => {
  const ctx = useTestApp();
  const memory = new MemoryTransport();
  let previousLevel: string;

  beforeAll(() => {
    previousLevel = logger.level;
    logger.level = 'debug';
    logger.add(memory);
  });

  afterAll(() => {
    logger.remove(memory);
    logger.level = previousLevel;
  });

  it('carry no password, token or hash through register, login, refresh, reset and failures', async () => {
    const email = 'logs.check@example.test';
    const password = 'Secret-in-body-7';
    const secrets: string[] = [password];

    const registered = await request(ctx.app).post('/api/auth/register').send({ email, password, name: 'Log Check' });
    secrets.push(registered.body.data.accessToken, registered.body.data.refreshToken);
    const login = await request(ctx.app).post('/api/auth/login').send({ email, password });
    secrets.push(login.body.data.accessToken, login.body.data.refreshToken);
    await request(ctx.app).post('/api/auth/login').send({ email, password: 'Wrong-but-secret-8' });
    secrets.push('Wrong-but-secret-8');
    const refreshed = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: login.body.data.refreshToken });
    secrets.push(refreshed.body.data.refreshToken);
    // A replayed token is a security event, logged without the token.
    await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: login.body.data.refreshToken });
    await request(ctx.app).post('/api/auth/forgot-password').send({ email });
    await ctx.jobsIdle();
    const resetToken = tokenFromMail(email, '/reset-password');
    secrets.push(resetToken);
    await request(ctx.app).post('/api/auth/reset-password').send({ token: resetToken, password: 'Another-secret-9' });
    secrets.push('Another-secret-9');
    await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${registered.body.data.accessToken}`);

    const text = memory.lines.join('\n');
    expect(memory.lines.some((line) => line.includes('"message":"request"'))).toBe(true);
    expect(memory.lines.some((line) => line.includes('refresh_token_reuse'))).toBe(true);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\$2[aby]\$\d\d\$/);
    expect(text).not.toMatch(/"(password|token|refreshToken|accessToken|authorization)":"(?!\[redacted\])/i);
  });
});

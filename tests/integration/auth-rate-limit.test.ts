import '../support/proxied-rate-limits';
import request from 'supertest';
import { MAILS_PER_ADDRESS_PER_HOUR } from '../../src/platform/http/rate-limit.middleware';
import { createUser, DEFAULT_PASSWORD, uniqueSuffix } from '../fixtures';
import { useTestApp } from '../support/app';
import { outboxFor } from '../support/outbox';

const AUTH_MAX = Number(process.env.AUTH_RATE_LIMIT_MAX);
const BOGUS_TOKEN = 'x'.repeat(43);

let clients = 0;

/** A client address not used before in this file: each has its own per-IP count. */
function newIp(): string {
  clients += 1;
  return `10.${Math.floor(clients / 250)}.${clients % 250}.1`;
}

describe('strict limits of the account routes', () => {
  const ctx = useTestApp();

  const post = (ip: string, path: string, body: object = {}, bearer?: string) => {
    const req = request(ctx.app).post(`/api/auth${path}`).set('X-Forwarded-For', ip);
    return (bearer ? req.set('Authorization', bearer) : req).send(body);
  };

  /** A customer signed in from an address of its own, so that the sign-in spends no one else's count. */
  async function signedIn(): Promise<{ email: string; bearer: string }> {
    const user = await createUser();
    const res = await post(newIp(), '/login', { email: user.email, password: DEFAULT_PASSWORD });
    expect(res.status).toBe(200);
    return { email: user.email, bearer: `Bearer ${res.body.data.accessToken}` };
  }

  it('counts change-password, reset-password, verify-email and resend-verification in the per-IP limit of login', async () => {
    const me = await signedIn();
    const ip = newIp();
    const spent = [
      await post(ip, '/login', { email: me.email, password: 'Wrong-pass-1' }),
      await post(ip, '/forgot-password', { email: me.email }),
      await post(ip, '/change-password', { currentPassword: 'Wrong-pass-1', newPassword: 'Another-pass-43' }, me.bearer),
      await post(ip, '/reset-password', { token: BOGUS_TOKEN, password: 'Another-pass-43' }),
      await post(ip, '/verify-email', { token: BOGUS_TOKEN }),
      await post(ip, '/resend-verification', {}, me.bearer),
    ];
    expect(spent.map((res) => res.status)).toEqual([401, 200, 400, 400, 400, 200]);
    expect((await post(ip, '/verify-email', { token: BOGUS_TOKEN })).status).toBe(400);
    expect(spent.length + 1).toBe(AUTH_MAX);

    const refused = [
      await post(ip, '/change-password', { currentPassword: DEFAULT_PASSWORD, newPassword: 'Another-pass-43' }, me.bearer),
      await post(ip, '/reset-password', { token: BOGUS_TOKEN, password: 'Another-pass-43' }),
      await post(ip, '/verify-email', { token: BOGUS_TOKEN }),
      await post(ip, '/resend-verification', {}, me.bearer),
      await post(ip, '/login', { email: me.email, password: DEFAULT_PASSWORD }),
    ];
    for (const res of refused) {
      expect([res.status, res.body.error?.code]).toEqual([429, 'RATE_LIMIT_EXCEEDED']);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The password did not change behind the limit, and other addresses are not held back.
    expect((await post(newIp(), '/login', { email: me.email, password: DEFAULT_PASSWORD })).status).toBe(200);
    expect((await post(newIp(), '/verify-email', { token: BOGUS_TOKEN })).status).toBe(400);
  });

  it('counts change-password and resend-verification per account too, from whatever address', async () => {
    const target = await signedIn();
    const neighbour = await signedIn();
    for (let i = 0; i < AUTH_MAX; i += 1) {
      const res = await post(newIp(), '/change-password', { currentPassword: `Guess-number-${i}`, newPassword: 'Another-pass-43' }, target.bearer);
      expect(res.status).toBe(400);
    }
    const ip = newIp();
    const limited = await post(ip, '/change-password', { currentPassword: DEFAULT_PASSWORD, newPassword: 'Another-pass-43' }, target.bearer);
    expect([limited.status, limited.body.error?.code]).toEqual([429, 'RATE_LIMIT_EXCEEDED']);
    expect((await post(newIp(), '/resend-verification', {}, target.bearer)).status).toBe(429);
    // The same address, for another account, is not limited.
    expect((await post(ip, '/change-password', { currentPassword: 'Wrong-pass-1', newPassword: 'Another-pass-43' }, neighbour.bearer)).status).toBe(400);
  });

  it('sends at most MAILS_PER_ADDRESS_PER_HOUR reset mails to an address, and answers the same for an address without an account', async () => {
    const known = await createUser();
    const unknown = `nobody.${uniqueSuffix()}@example.test`;
    for (const email of [known.email, unknown]) {
      for (let i = 0; i < MAILS_PER_ADDRESS_PER_HOUR; i += 1) expect((await post(newIp(), '/forgot-password', { email })).status).toBe(200);
      const limited = await post(newIp(), '/forgot-password', { email });
      expect([limited.status, limited.body.error?.code]).toEqual([429, 'RATE_LIMIT_EXCEEDED']);
      // Spelled otherwise, it is the same address.
      expect((await post(newIp(), '/forgot-password', { email: ` ${email.toUpperCase()} ` })).status).toBe(429);
    }
    await ctx.jobsIdle();
    expect(outboxFor(known.email)).toHaveLength(MAILS_PER_ADDRESS_PER_HOUR);
    expect((await post(newIp(), '/forgot-password', { email: `other.${uniqueSuffix()}@example.test` })).status).toBe(200);
  });

  it('sends at most MAILS_PER_ADDRESS_PER_HOUR verification mails to an address', async () => {
    const me = await signedIn();
    for (let i = 0; i < MAILS_PER_ADDRESS_PER_HOUR; i += 1) {
      const res = await post(newIp(), '/resend-verification', {}, me.bearer);
      expect(res.body.data).toEqual({ alreadyVerified: false });
    }
    const limited = await post(newIp(), '/resend-verification', {}, me.bearer);
    expect([limited.status, limited.body.error?.code]).toEqual([429, 'RATE_LIMIT_EXCEEDED']);
    expect(MAILS_PER_ADDRESS_PER_HOUR).toBeLessThan(AUTH_MAX);
    await ctx.jobsIdle();
    expect(outboxFor(me.email).filter((mail) => /Confirm your email/.test(mail.subject))).toHaveLength(MAILS_PER_ADDRESS_PER_HOUR);
  });
});

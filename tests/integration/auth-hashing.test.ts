import '../support/production-bcrypt-cost';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import request from 'supertest';
import { config } from '../../src/platform/config';
import { User } from '../../src/models';
import * as passwords from '../../src/platform/utils/password';
import { hashCost, hashPassword } from '../../src/platform/utils/password';
import { createProduct, createUser, DEFAULT_PASSWORD, uniqueSuffix } from '../fixtures';
import { useTestApp } from '../support/app';
import { signedInUser } from '../support/auth';

const BOGUS_TOKEN = 'x'.repeat(43);

async function elapsedMs(run: () => PromiseLike<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function fastestOf(times: number, run: () => PromiseLike<unknown>): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < times; i += 1) fastest = Math.min(fastest, await elapsedMs(run));
  return fastest;
}

describe('password hashing at production cost', () => {
  const ctx = useTestApp();
  /** What one hash at BCRYPT_ROUNDS takes on this machine now. */
  let oneHashMs: number;

  beforeAll(async () => {
    expect(config.bcryptRounds).toBe(12);
    oneHashMs = await fastestOf(2, () => hashPassword('measure-only', config.bcryptRounds));
  });

  // First in the file: the cost of the dummy comparison is read once from the users table, while
  // every account holds the factory's cost-4 hash (as after BCRYPT_ROUNDS was raised).
  it('spends on an unknown email the cost stored hashes have, not BCRYPT_ROUNDS', async () => {
    const users = await Promise.all([createUser(), createUser(), createUser()]);
    expect(users.map((user) => hashCost(user.password))).toEqual([4, 4, 4]);
    const login = (email: string) => request(ctx.app).post('/api/auth/login').send({ email, password: 'Wrong-pass-1' });

    const unknown = await fastestOf(3, async () => expect((await login(`nobody.${uniqueSuffix()}@example.test`)).status).toBe(401));
    const known = await fastestOf(3, async () => expect((await login(users[0].email)).status).toBe(401));
    // A cost-12 comparison would take as long as a cost-12 hash: 256 times a cost-4 one.
    expect(unknown).toBeLessThan(oneHashMs / 2);
    expect(known).toBeLessThan(oneHashMs / 2);
  });

  it('makes a hash of a lower cost again at login, with the password just proven', async () => {
    const user = await createUser();
    const before = user.password;
    expect((await request(ctx.app).post('/api/auth/login').send({ email: user.email, password: 'Wrong-pass-1' })).status).toBe(401);
    expect((await User.findByPk(user.id))?.password).toBe(before);

    expect((await request(ctx.app).post('/api/auth/login').send({ email: user.email, password: DEFAULT_PASSWORD })).status).toBe(200);
    const after = (await User.findByPk(user.id))!.password;
    expect(after).not.toBe(before);
    expect(hashCost(after)).toBe(12);
    expect((await request(ctx.app).post('/api/auth/login').send({ email: user.email, password: DEFAULT_PASSWORD })).status).toBe(200);
    expect((await User.findByPk(user.id))?.password).toBe(after);
  });

  it('keeps the event loop free during a burst of password checks, and answers a catalog read meanwhile', async () => {
    await createProduct();
    // Signing in made the stored hash a cost-12 one: each wrong try below costs a full comparison.
    const me = await signedInUser(ctx.app);
    expect(hashCost((await User.findByPk(me.user.id))!.password)).toBe(12);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const burst = Promise.all([
      ...Array.from({ length: 8 }, () =>
        request(ctx.app).post('/api/auth/change-password').set('Authorization', me.bearer).send({ currentPassword: 'Wrong-pass-1', newPassword: 'Another-pass-43' }),
      ),
      ...Array.from({ length: 4 }, () => request(ctx.app).post('/api/auth/login').send({ email: me.user.email, password: 'Wrong-pass-1' })),
      ...Array.from({ length: 4 }, () => request(ctx.app).post('/api/auth/register').send({ email: `burst.${uniqueSuffix()}@example.test`, password: 'Sturdy-pass-42', name: 'Burst User' })),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 20));

    const read = await request(ctx.app).get('/api/products');
    const answers = await burst;
    loop.disable();

    expect(read.status).toBe(200);
    // The event loop was not held: a hash on it holds it for a whole hash at a time, so most of its
    // delays would be that long. (Its largest delay says little: one full GC of the test process
    // can take half a second.) A bound relative to one hash here and now, not an absolute time.
    expect(loop.percentile(90) / 1e6).toBeLessThan(oneHashMs / 2);
    expect(answers.map((res) => res.status)).toEqual([...Array(8).fill(400), ...Array(4).fill(401), ...Array(4).fill(201)]);
  });

  it('looks a reset token up before it hashes the new password', async () => {
    const hashing = jest.spyOn(passwords, 'hashPassword');
    try {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => request(ctx.app).post('/api/auth/reset-password').send({ token: BOGUS_TOKEN, password: 'Another-pass-43' })),
      );
      expect(answers.map((res) => res.body.error?.code)).toEqual(Array(8).fill('INVALID_OR_EXPIRED_TOKEN'));
      // A token that names no reset costs no hash…
      expect(hashing).not.toHaveBeenCalled();
      // …where a registration, seen by the same spy, costs one.
      expect((await request(ctx.app).post('/api/auth/register').send({ email: `spy.${uniqueSuffix()}@example.test`, password: 'Sturdy-pass-42', name: 'Spy Check' })).status).toBe(201);
      expect(hashing).toHaveBeenCalledTimes(1);
    } finally {
      hashing.mockRestore();
    }
  });
});

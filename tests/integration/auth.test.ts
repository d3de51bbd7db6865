import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { config } from '../../src/platform/config';
import { User, UserSession } from '../../src/models';
import { createUser, DEFAULT_PASSWORD, uniqueSuffix } from '../fixtures';
import { useTestApp } from '../support/app';
import { login, signedInUser } from '../support/auth';
import { decodedBody, outboxFor, tokenFromMail } from '../support/outbox';

const FORBIDDEN_USER_KEYS = ['password', 'emailVerificationToken', 'passwordResetToken', 'passwordResetExpires', 'refreshTokenHash'];

function expectNoSecrets(user: Record<string, unknown>): void {
  for (const key of FORBIDDEN_USER_KEYS) expect(user).not.toHaveProperty(key);
  expect(JSON.stringify(user)).not.toMatch(/\$2[aby]\$/);
}

function newEmail(): string {
  return `user.${uniqueSuffix()}@example.test`;
}

describe('auth', () => {
  const ctx = useTestApp();

  describe('the plan scenarios', () => {
    const validUser = () => ({ email: newEmail(), password: 'Sturdy-pass-42', name: 'Test User' });

    it('registers a customer with tokens and no password in the answer', async () => {
      const body = validUser();
      const res = await request(ctx.app).post('/api/auth/register').send(body);
      expect(res.status).toBe(201);
      expect(res.body.success).toBe(true);
      expect(res.body.data.user).toMatchObject({ email: body.email, name: body.name, role: 'customer', status: 'approved', emailVerified: false });
      expect(res.body.data.accessToken).toEqual(expect.any(String));
      expect(res.body.data.refreshToken).toEqual(expect.any(String));
      expectNoSecrets(res.body.data.user);
    });

    it('answers 400 VALIDATION_ERROR for an invalid email', async () => {
      const res = await request(ctx.app).post('/api/auth/register').send({ ...validUser(), email: 'invalid-email' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    });

    it('answers 409 USER_EXISTS for a duplicate email', async () => {
      const body = validUser();
      await createUser({ email: body.email });
      const res = await request(ctx.app).post('/api/auth/register').send(body);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('USER_EXISTS');
    });

    it('logs in with valid credentials and refuses wrong ones with 401 INVALID_CREDENTIALS', async () => {
      const user = await createUser();
      const ok = await request(ctx.app).post('/api/auth/login').send({ email: user.email, password: DEFAULT_PASSWORD });
      expect(ok.status).toBe(200);
      expect(ok.body.data.user.email).toBe(user.email);
      expectNoSecrets(ok.body.data.user);
      const bad = await request(ctx.app).post('/api/auth/login').send({ email: user.email, password: 'wrong-password' });
      expect(bad.status).toBe(401);
      expect(bad.body.error.code).toBe('INVALID_CREDENTIALS');
      const unknown = await request(ctx.app).post('/api/auth/login').send({ email: newEmail(), password: 'wrong-password' });
      expect(unknown.status).toBe(401);
      expect(unknown.body.error).toEqual(bad.body.error);
    });

    it('returns the current user, and 401 NO_TOKEN without a token', async () => {
      const me = await signedInUser(ctx.app);
      const res = await request(ctx.app).get('/api/auth/me').set('Authorization', me.bearer);
      expect(res.status).toBe(200);
      expect(res.body.data.email).toBe(me.user.email);
      expectNoSecrets(res.body.data);
      const anonymous = await request(ctx.app).get('/api/auth/me');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('NO_TOKEN');
    });

    it('sets lastLoginAt at login, and authenticated reads write nothing', async () => {
      const me = await signedInUser(ctx.app);
      const after = await User.findByPk(me.user.id);
      expect(after?.lastLoginAt).toBeInstanceOf(Date);
      const before = after?.updatedAt.getTime();
      for (let i = 0; i < 5; i += 1) await request(ctx.app).get('/api/auth/me').set('Authorization', me.bearer);
      expect((await User.findByPk(me.user.id))?.updatedAt.getTime()).toBe(before);
    });
  });

  describe('registration cannot be used to raise privileges', () => {
    it.each([
      [{ role: 'admin' }],
      [{ status: 'approved', role: 'seller', storeName: 'Shop' }],
      [{ emailVerified: true }],
      [{ id: '00000000-0000-4000-8000-000000000000' }],
    ])('rejects %j with 400 and creates nothing', async (extra) => {
      const email = newEmail();
      const res = await request(ctx.app)
        .post('/api/auth/register')
        .send({ email, password: 'Sturdy-pass-42', name: 'Mallory', ...extra });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(await User.count({ where: { email } })).toBe(0);
    });

    it.each([
      ['a line break', 'Eve\nYour account is locked: visit http://evil.test'],
      ['a carriage return', 'Eve\r\nBcc: someone@evil.test'],
      ['a tab', 'Eve\tSupport'],
      ['a control character', 'Eve\u0007'],
      ['a line separator', 'Eve\u2028Support team'],
      ['a bidi override', 'Eve \u202Etxt.exe'],
    ])('refuses a name with %s (register, store name, PATCH /me)', async (_what, name) => {
      const email = newEmail();
      const register = await request(ctx.app).post('/api/auth/register').send({ email, password: 'Sturdy-pass-42', name });
      expect(register.status).toBe(400);
      expect(register.body.error.details).toEqual([{ field: 'name', message: 'name must be one line without control characters' }]);
      const seller = await request(ctx.app)
        .post('/api/auth/register')
        .send({ email, password: 'Sturdy-pass-42', name: 'Sam Seller', role: 'seller', storeName: name });
      expect(seller.status).toBe(400);
      expect(seller.body.error.details.map((detail: { field: string }) => detail.field)).toEqual(['storeName']);
      expect(await User.count({ where: { email } })).toBe(0);

      const me = await signedInUser(ctx.app);
      const patch = await request(ctx.app).patch('/api/auth/me').set('Authorization', me.bearer).send({ name });
      expect(patch.status).toBe(400);
      expect((await User.findByPk(me.user.id))?.name).toBe(me.user.name);
    });

    it('accepts names in any script, with accents and joiners', async () => {
      for (const name of ['Zoë Ørsted-Łukasz', '山田 太郎', 'میرزا\u200cعلی', "O'Brien Jr."]) {
        const res = await request(ctx.app).post('/api/auth/register').send({ email: newEmail(), password: 'Sturdy-pass-42', name });
        expect([name, res.status]).toEqual([name, 201]);
      }
    });

    it('rejects role or email in PATCH /me and changes nothing', async () => {
      const me = await signedInUser(ctx.app);
      for (const body of [{ role: 'admin' }, { email: newEmail() }, { name: 'Ok Name', status: 'approved' }, {}]) {
        const res = await request(ctx.app).patch('/api/auth/me').set('Authorization', me.bearer).send(body);
        expect(res.status).toBe(400);
      }
      const after = await User.findByPk(me.user.id);
      expect(after).toMatchObject({ role: 'customer', email: me.user.email, name: me.user.name });
      const ok = await request(ctx.app).patch('/api/auth/me').set('Authorization', me.bearer).send({ name: 'New Name', avatarUrl: 'https://img.test/a.png' });
      expect(ok.status).toBe(200);
      expect(ok.body.data).toMatchObject({ name: 'New Name', avatarUrl: 'https://img.test/a.png' });
    });
  });

  describe('access tokens', () => {
    function forge(payload: object, secret: string, options: jwt.SignOptions = {}): string {
      const withExpiry = 'exp' in payload ? {} : { expiresIn: '15m' as const };
      return jwt.sign(payload, secret, { algorithm: 'HS256', issuer: config.jwt.issuer, audience: config.jwt.audience, ...withExpiry, ...options });
    }

    async function expectRefused(token: string, code: string): Promise<void> {
      const res = await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe(code);
    }

    it('refuses a token signed with another secret', async () => {
      const me = await signedInUser(ctx.app);
      const claims = jwt.decode(me.accessToken) as Record<string, unknown>;
      await expectRefused(forge({ sub: claims.sub, sid: claims.sid, role: 'admin', typ: 'access' }, 'another-secret-another-secret-another'), 'INVALID_TOKEN');
    });

    it('refuses alg none', async () => {
      const me = await signedInUser(ctx.app);
      const claims = jwt.decode(me.accessToken) as Record<string, unknown>;
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
      await expectRefused(`${header}.${body}.`, 'INVALID_TOKEN');
    });

    it('refuses a changed payload', async () => {
      const me = await signedInUser(ctx.app);
      const [header, payload, signature] = me.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const tampered = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
      await expectRefused(`${header}.${tampered}.${signature}`, 'INVALID_TOKEN');
    });

    it('refuses an expired token with TOKEN_EXPIRED', async () => {
      const me = await signedInUser(ctx.app);
      const claims = jwt.decode(me.accessToken) as Record<string, unknown>;
      const expired = forge({ sub: claims.sub, sid: claims.sid, role: claims.role, typ: 'access', exp: Math.floor(Date.now() / 1000) - 10 }, config.jwt.secret);
      await expectRefused(expired, 'TOKEN_EXPIRED');
    });

    it('refuses a token it accepted once it has expired, and one signed with a secret replaced since', async () => {
      const me = await signedInUser(ctx.app);
      const claims = jwt.decode(me.accessToken) as Record<string, unknown>;
      // A minute ahead, so that the two reads below come before it on a slow machine; its end is then reached by moving the clock.
      const expiresAt = Math.floor(Date.now() / 1000) + 60;
      const shortLived = forge({ sub: claims.sub, sid: claims.sid, role: claims.role, typ: 'access', exp: expiresAt }, config.jwt.secret);
      await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${shortLived}`).expect(200);
      await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${shortLived}`).expect(200);
      const now = jest.spyOn(Date, 'now').mockReturnValue(expiresAt * 1000);
      try {
        await expectRefused(shortLived, 'TOKEN_EXPIRED');
      } finally {
        now.mockRestore();
      }

      await request(ctx.app).get('/api/auth/me').set('Authorization', me.bearer).expect(200);
      const secret = config.jwt.secret;
      (config.jwt as { secret: string }).secret = `${secret}-rotated`;
      try {
        await expectRefused(me.accessToken, 'INVALID_TOKEN');
      } finally {
        (config.jwt as { secret: string }).secret = secret;
      }
      await request(ctx.app).get('/api/auth/me').set('Authorization', me.bearer).expect(200);
    });

    it('refuses a token with another issuer or audience', async () => {
      const me = await signedInUser(ctx.app);
      const claims = jwt.decode(me.accessToken) as Record<string, unknown>;
      const payload = { sub: claims.sub, sid: claims.sid, role: claims.role, typ: 'access' };
      await expectRefused(forge(payload, config.jwt.secret, { issuer: 'someone-else' }), 'INVALID_TOKEN');
      await expectRefused(forge(payload, config.jwt.secret, { audience: 'someone-else' }), 'INVALID_TOKEN');
    });

    it('refuses the token of a deleted user', async () => {
      const me = await signedInUser(ctx.app);
      await User.destroy({ where: { id: me.user.id } });
      await expectRefused(me.accessToken, 'INVALID_TOKEN');
    });

    it('refuses the token after logout with TOKEN_REVOKED, and its refresh token too', async () => {
      const me = await signedInUser(ctx.app);
      const out = await request(ctx.app).post('/api/auth/logout').set('Authorization', me.bearer).send({});
      expect(out.status).toBe(200);
      await expectRefused(me.accessToken, 'TOKEN_REVOKED');
      const refresh = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: me.refreshToken });
      expect(refresh.status).toBe(401);
      expect(refresh.body.error.code).toBe('TOKEN_REVOKED');
    });

    it('refuses a refresh token used as an access token', async () => {
      const me = await signedInUser(ctx.app);
      await expectRefused(me.refreshToken, 'INVALID_TOKEN');
    });

    it('refuses a malformed Authorization header', async () => {
      const me = await signedInUser(ctx.app);
      const res = await request(ctx.app).get('/api/auth/me').set('Authorization', `Token ${me.accessToken}`);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('NO_TOKEN');
    });
  });

  describe('refresh tokens', () => {
    it('rotates: the new pair works and the old refresh token stops working', async () => {
      const me = await signedInUser(ctx.app);
      const first = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: me.refreshToken });
      expect(first.status).toBe(200);
      expect(first.body.data.refreshToken).not.toBe(me.refreshToken);
      const meAgain = await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${first.body.data.accessToken}`);
      expect(meAgain.status).toBe(200);
    });

    it('revokes the whole session when a rotated token is reused', async () => {
      const me = await signedInUser(ctx.app);
      const rotated = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: me.refreshToken });
      expect(rotated.status).toBe(200);

      const replay = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: me.refreshToken });
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe('TOKEN_REVOKED');

      // The thief's replay also kills the legitimate holder's newer tokens.
      const next = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: rotated.body.data.refreshToken });
      expect(next.status).toBe(401);
      expect(next.body.error.code).toBe('TOKEN_REVOKED');
      const access = await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${rotated.body.data.accessToken}`);
      expect(access.status).toBe(401);
      expect(access.body.error.code).toBe('TOKEN_REVOKED');
      const session = await UserSession.findOne({ where: { userId: me.user.id } });
      expect(session?.revokedReason).toBe('refresh_token_reuse');
    });

    it('does not revoke a session for a token that only names it (session ids are in every access token)', async () => {
      const me = await signedInUser(ctx.app);
      const { sid } = jwt.decode(me.accessToken) as { sid: string };
      const forged = `${sid}.${randomBytes(32).toString('base64url')}`;
      const res = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: forged });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_REFRESH_TOKEN');

      const session = await UserSession.findByPk(sid);
      expect(session).toMatchObject({ revokedAt: null, revokedReason: null });
      expect((await request(ctx.app).get('/api/auth/me').set('Authorization', me.bearer)).status).toBe(200);
      const rotated = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: me.refreshToken });
      expect(rotated.status).toBe(200);
      // Nor for the forged token presented again once the real one was rotated.
      expect((await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: forged })).body.error.code).toBe('INVALID_REFRESH_TOKEN');
      expect((await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: rotated.body.data.refreshToken })).status).toBe(200);
    });

    it('refuses an access token used as a refresh token, and a missing one', async () => {
      const me = await signedInUser(ctx.app);
      const res = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: me.accessToken });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('INVALID_REFRESH_TOKEN');
      const missing = await request(ctx.app).post('/api/auth/refresh-token').send({});
      expect(missing.status).toBe(400);
      expect(missing.body.error.code).toBe('REFRESH_TOKEN_REQUIRED');
      const junk = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: 'junk' });
      expect(junk.status).toBe(401);
      expect(junk.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    });

    it('answers REFRESH_TOKEN_EXPIRED after the session expired', async () => {
      const me = await signedInUser(ctx.app);
      await UserSession.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { userId: me.user.id } });
      const res = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: me.refreshToken });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('REFRESH_TOKEN_EXPIRED');
    });

    it('stores only hashes of refresh tokens', async () => {
      const me = await signedInUser(ctx.app);
      const sessions = await UserSession.findAll({ where: { userId: me.user.id }, raw: true });
      expect(JSON.stringify(sessions)).not.toContain(me.refreshToken.split('.')[1]);
    });
  });

  describe('emails and passwords', () => {
    it('keeps one account per address, whatever the case and surrounding spaces', async () => {
      const local = `Mixed.${uniqueSuffix()}`;
      const first = await request(ctx.app).post('/api/auth/register').send({ email: `  ${local}@Example.TEST `, password: 'Sturdy-pass-42', name: 'Case One' });
      expect(first.status).toBe(201);
      expect(first.body.data.user.email).toBe(`${local.toLowerCase()}@example.test`);
      const second = await request(ctx.app).post('/api/auth/register').send({ email: `${local.toLowerCase()}@example.test`, password: 'Sturdy-pass-42', name: 'Case Two' });
      expect(second.status).toBe(409);
      const upper = await request(ctx.app).post('/api/auth/login').send({ email: ` ${local.toUpperCase()}@EXAMPLE.test`, password: 'Sturdy-pass-42' });
      expect(upper.status).toBe(200);
    });

    it('uses every byte of passwords longer than 72 bytes (pre-hashed, not truncated)', async () => {
      const email = newEmail();
      const prefix = 'é'.repeat(40);
      const res = await request(ctx.app).post('/api/auth/register').send({ email, password: `${prefix}-one`, name: 'Long Pass' });
      expect(res.status).toBe(201);
      const other = await request(ctx.app).post('/api/auth/login').send({ email, password: `${prefix}-two` });
      expect(other.status).toBe(401);
      expect((await request(ctx.app).post('/api/auth/login').send({ email, password: `${prefix}-one` })).status).toBe(200);
    });

    it('refuses weak and over-long passwords', async () => {
      for (const password of ['short', 'password', 'aaaaaaaaaaaa', 'x'.repeat(129)]) {
        const res = await request(ctx.app).post('/api/auth/register').send({ email: newEmail(), password, name: 'Weak Pass' });
        expect(res.status).toBe(400);
      }
    });

    it('answers 400 to 10 kB strings in every field and writes nothing', async () => {
      const huge = 'a'.repeat(10_000);
      const me = await signedInUser(ctx.app);
      const before = await User.count();
      const attempts: Array<[string, string, object]> = [
        ['post', '/api/auth/register', { email: `${huge}@example.test`, password: 'Sturdy-pass-42', name: 'Ok Name' }],
        ['post', '/api/auth/register', { email: newEmail(), password: huge, name: 'Ok Name' }],
        ['post', '/api/auth/register', { email: newEmail(), password: 'Sturdy-pass-42', name: huge }],
        ['post', '/api/auth/register', { email: newEmail(), password: 'Sturdy-pass-42', name: 'Ok Name', role: 'seller', storeName: huge }],
        ['post', '/api/auth/login', { email: me.user.email, password: huge }],
        ['post', '/api/auth/forgot-password', { email: huge }],
        ['post', '/api/auth/reset-password', { token: huge, password: 'Sturdy-pass-42' }],
        ['post', '/api/auth/verify-email', { token: huge }],
        ['post', '/api/auth/refresh-token', { refreshToken: huge }],
        ['patch', '/api/auth/me', { name: huge }],
        ['patch', '/api/auth/me', { avatarUrl: `https://img.test/${huge}` }],
        ['post', '/api/auth/change-password', { currentPassword: DEFAULT_PASSWORD, newPassword: huge }],
      ];
      for (const [method, path, body] of attempts) {
        const res = await (request(ctx.app) as any)[method](path).set('Authorization', me.bearer).send(body);
        expect([path, res.status]).toEqual([path, 400]);
      }
      expect(await User.count()).toBe(before);
    });

    it('changes the password and revokes the other sessions, keeping this one', async () => {
      const me = await signedInUser(ctx.app);
      const other = await login(ctx.app, me.user.email);
      const wrong = await request(ctx.app).post('/api/auth/change-password').set('Authorization', me.bearer).send({ currentPassword: 'nope-nope-1', newPassword: 'Another-pass-43' });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.code).toBe('INVALID_CURRENT_PASSWORD');
      const ok = await request(ctx.app).post('/api/auth/change-password').set('Authorization', me.bearer).send({ currentPassword: DEFAULT_PASSWORD, newPassword: 'Another-pass-43' });
      expect(ok.status).toBe(200);
      expect((await request(ctx.app).get('/api/auth/me').set('Authorization', me.bearer)).status).toBe(200);
      const revoked = await request(ctx.app).get('/api/auth/me').set('Authorization', `Bearer ${other.accessToken}`);
      expect(revoked.status).toBe(401);
      expect(revoked.body.error.code).toBe('TOKEN_REVOKED');
      expect((await request(ctx.app).post('/api/auth/login').send({ email: me.user.email, password: DEFAULT_PASSWORD })).status).toBe(401);
      expect((await request(ctx.app).post('/api/auth/login').send({ email: me.user.email, password: 'Another-pass-43' })).status).toBe(200);
    });

    it('resets a forgotten password once, through the mailed link, and signs out every session', async () => {
      const me = await signedInUser(ctx.app);
      const unknown = await request(ctx.app).post('/api/auth/forgot-password').send({ email: newEmail() });
      const known = await request(ctx.app).post('/api/auth/forgot-password').send({ email: me.user.email });
      expect(known.status).toBe(200);
      expect(unknown.status).toBe(200);
      expect(unknown.body).toEqual(known.body);

      await ctx.jobsIdle();
      const token = tokenFromMail(me.user.email, '/reset-password');
      expect(token).not.toContain(((await User.findByPk(me.user.id))?.passwordResetToken ?? 'x').slice(0, 20));

      const reset = await request(ctx.app).post('/api/auth/reset-password').send({ token, password: 'Brand-new-pass-7' });
      expect(reset.status).toBe(200);
      const again = await request(ctx.app).post('/api/auth/reset-password').send({ token, password: 'Brand-new-pass-8' });
      expect(again.status).toBe(400);
      expect(again.body.error.code).toBe('INVALID_OR_EXPIRED_TOKEN');

      const old = await request(ctx.app).get('/api/auth/me').set('Authorization', me.bearer);
      expect(old.body.error.code).toBe('TOKEN_REVOKED');
      expect((await request(ctx.app).post('/api/auth/login').send({ email: me.user.email, password: 'Brand-new-pass-7' })).status).toBe(200);
    });

    it('voids an outstanding reset link when the password is changed', async () => {
      const me = await signedInUser(ctx.app);
      await request(ctx.app).post('/api/auth/forgot-password').send({ email: me.user.email });
      await ctx.jobsIdle();
      const token = tokenFromMail(me.user.email, '/reset-password');
      const changed = await request(ctx.app).post('/api/auth/change-password').set('Authorization', me.bearer).send({ currentPassword: DEFAULT_PASSWORD, newPassword: 'Changed-pass-44' });
      expect(changed.status).toBe(200);

      const reset = await request(ctx.app).post('/api/auth/reset-password').send({ token, password: 'Attacker-pass-45' });
      expect(reset.status).toBe(400);
      expect(reset.body.error.code).toBe('INVALID_OR_EXPIRED_TOKEN');
      expect((await request(ctx.app).post('/api/auth/login').send({ email: me.user.email, password: 'Attacker-pass-45' })).status).toBe(401);
      expect((await request(ctx.app).post('/api/auth/login').send({ email: me.user.email, password: 'Changed-pass-44' })).status).toBe(200);
      // This session stays signed in: the change was made from it.
      expect((await request(ctx.app).get('/api/auth/me').set('Authorization', me.bearer)).status).toBe(200);
    });

    it('keeps what a user typed on its own line in the text of a mail, and escaped in its HTML', async () => {
      // A name stored before names had to be one line (or by a path that does not validate).
      const name = 'Eve\n\nYour account is locked: go to http://evil.test <a href="http://evil.test">here</a>\r\n';
      const user = await createUser({ name });
      await request(ctx.app).post('/api/auth/forgot-password').send({ email: user.email });
      await ctx.jobsIdle();
      const [mail] = outboxFor(user.email);
      const body = decodedBody(mail);
      const text = body.slice(0, body.indexOf('<!DOCTYPE html>'));
      const html = body.slice(body.indexOf('<!DOCTYPE html>'));
      const lines = text.split(/\r?\n/);
      expect(lines).toContain('Hello Eve Your account is locked: go to http://evil.test <a href="http://evil.test">here</a> ,');
      expect(lines.some((line) => line.startsWith('Your account is locked'))).toBe(false);
      expect(html).toContain('<p>Hello Eve Your account is locked: go to http://evil.test &lt;a href');
      expect(html).not.toContain('<a href="http://evil.test">');
      // The reset link still works.
      const token = tokenFromMail(user.email, '/reset-password');
      expect((await request(ctx.app).post('/api/auth/reset-password').send({ token, password: 'Brand-new-pass-9' })).status).toBe(200);
    });

    it('refuses an expired reset token', async () => {
      const me = await signedInUser(ctx.app);
      await request(ctx.app).post('/api/auth/forgot-password').send({ email: me.user.email });
      await ctx.jobsIdle();
      const token = tokenFromMail(me.user.email, '/reset-password');
      await User.update({ passwordResetExpires: new Date(Date.now() - 1000) }, { where: { id: me.user.id } });
      const res = await request(ctx.app).post('/api/auth/reset-password').send({ token, password: 'Brand-new-pass-7' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_OR_EXPIRED_TOKEN');
    });

    it('mails a welcome and a verification link at register, and verifies once', async () => {
      const email = newEmail();
      const res = await request(ctx.app).post('/api/auth/register').send({ email, password: 'Sturdy-pass-42', name: 'Verify Me' });
      expect(res.status).toBe(201);
      await ctx.jobsIdle();
      expect(outboxFor(email).length).toBe(2);
      const token = tokenFromMail(email, '/verify-email');
      expect((await request(ctx.app).post('/api/auth/verify-email').send({ token })).status).toBe(200);
      expect((await User.findByEmail(email))?.emailVerified).toBe(true);
      const again = await request(ctx.app).post('/api/auth/verify-email').send({ token });
      expect(again.body.error.code).toBe('INVALID_OR_EXPIRED_TOKEN');
      const resend = await request(ctx.app).post('/api/auth/resend-verification').set('Authorization', `Bearer ${res.body.data.accessToken}`).send({});
      expect(resend.body.data.alreadyVerified).toBe(true);
    });

    it('resends a verification link that replaces the previous one', async () => {
      const email = newEmail();
      const res = await request(ctx.app).post('/api/auth/register').send({ email, password: 'Sturdy-pass-42', name: 'Resend Me' });
      await ctx.jobsIdle();
      const first = tokenFromMail(email, '/verify-email');
      const resend = await request(ctx.app).post('/api/auth/resend-verification').set('Authorization', `Bearer ${res.body.data.accessToken}`).send({});
      expect(resend.status).toBe(200);
      await ctx.jobsIdle();
      const second = tokenFromMail(email, '/verify-email');
      expect(second).not.toBe(first);
      expect((await request(ctx.app).post('/api/auth/verify-email').send({ token: first })).status).toBe(400);
      expect((await request(ctx.app).post('/api/auth/verify-email').send({ token: second })).status).toBe(200);
    });
  });

  describe('roles and states', () => {
    it('runs the seller flow: pending → login refused → approved with a mail → login works', async () => {
      const email = newEmail();
      const reg = await request(ctx.app)
        .post('/api/auth/register')
        .send({ email, password: 'Sturdy-pass-42', name: 'Sam Seller', role: 'seller', storeName: 'Sam Goods', storeDescription: 'Hand-made goods' });
      expect(reg.status).toBe(201);
      expect(reg.body.data.user).toMatchObject({ role: 'seller', status: 'pending' });
      expect(reg.body.data.accessToken).toBeUndefined();
      expect(reg.body.data.refreshToken).toBeUndefined();

      const refused = await request(ctx.app).post('/api/auth/login').send({ email, password: 'Sturdy-pass-42' });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('ACCOUNT_PENDING');

      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const pending = await request(ctx.app).get('/api/admin/sellers').set('Authorization', admin.bearer);
      expect(pending.status).toBe(200);
      expect(pending.body.data.sellers.map((s: { email: string }) => s.email)).toContain(email);

      const approve = await request(ctx.app).post(`/api/admin/sellers/${reg.body.data.user.id}/approve`).set('Authorization', admin.bearer).send({});
      expect(approve.status).toBe(200);
      expect(approve.body.data).toMatchObject({ status: 'approved', sellerProfile: { storeName: 'Sam Goods', approvedAt: expect.any(String) } });
      await ctx.jobsIdle();
      expect(outboxFor(email).map((mail) => mail.subject).join(' | ')).toMatch(/approved/i);

      const tokens = await login(ctx.app, email, 'Sturdy-pass-42');
      const profile = await request(ctx.app).get('/api/seller/profile').set('Authorization', `Bearer ${tokens.accessToken}`);
      expect(profile.status).toBe(200);
      expect(profile.body.data).toMatchObject({ storeName: 'Sam Goods', storeSlug: expect.stringMatching(/^sam-goods/) });
      const again = await request(ctx.app).post(`/api/admin/sellers/${reg.body.data.user.id}/approve`).set('Authorization', admin.bearer).send({});
      expect(again.status).toBe(409);
    });

    it('rejects a seller with a reason that is mailed, and refuses their login', async () => {
      const email = newEmail();
      const reg = await request(ctx.app).post('/api/auth/register').send({ email, password: 'Sturdy-pass-42', name: 'Rita Seller', role: 'seller', storeName: 'Rita Shop' });
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const noReason = await request(ctx.app).post(`/api/admin/sellers/${reg.body.data.user.id}/reject`).set('Authorization', admin.bearer).send({});
      expect(noReason.status).toBe(400);
      const reject = await request(ctx.app)
        .post(`/api/admin/sellers/${reg.body.data.user.id}/reject`)
        .set('Authorization', admin.bearer)
        .send({ reason: 'Counterfeit goods & <fake> brands' });
      expect(reject.status).toBe(200);
      await ctx.jobsIdle();
      const mails = outboxFor(email);
      expect(mails.some((mail) => decodedBody(mail).includes('Counterfeit goods'))).toBe(true);
      const refused = await request(ctx.app).post('/api/auth/login').send({ email, password: 'Sturdy-pass-42' });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('ACCOUNT_REJECTED');
    });

    it('refuses customers on admin and seller routes with 403 INSUFFICIENT_PERMISSIONS', async () => {
      const customer = await signedInUser(ctx.app);
      for (const [method, path] of [
        ['get', '/api/admin/users'],
        ['get', `/api/admin/users/${customer.user.id}`],
        ['patch', `/api/admin/users/${customer.user.id}/status`],
        ['get', '/api/admin/sellers'],
        ['get', '/api/seller/profile'],
      ]) {
        const res = await (request(ctx.app) as any)[method](path).set('Authorization', customer.bearer).send({ status: 'approved' });
        expect([path, res.status, res.body.error?.code]).toEqual([path, 403, 'INSUFFICIENT_PERMISSIONS']);
      }
    });

    it('suspends a user: their sessions are revoked at once and login is refused', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const victim = await signedInUser(ctx.app);
      const res = await request(ctx.app).patch(`/api/admin/users/${victim.user.id}/status`).set('Authorization', admin.bearer).send({ status: 'suspended', reason: 'Fraud' });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ status: 'suspended', suspendedReason: 'Fraud' });
      const me = await request(ctx.app).get('/api/auth/me').set('Authorization', victim.bearer);
      expect(me.status).toBe(401);
      expect(me.body.error.code).toBe('TOKEN_REVOKED');
      const refresh = await request(ctx.app).post('/api/auth/refresh-token').send({ refreshToken: victim.refreshToken });
      expect(refresh.status).toBe(401);
      const relogin = await request(ctx.app).post('/api/auth/login').send({ email: victim.user.email, password: DEFAULT_PASSWORD });
      expect(relogin.status).toBe(403);
      expect(relogin.body.error.code).toBe('ACCOUNT_SUSPENDED');
      const restore = await request(ctx.app).patch(`/api/admin/users/${victim.user.id}/status`).set('Authorization', admin.bearer).send({ status: 'approved' });
      expect(restore.status).toBe(200);
      expect((await request(ctx.app).post('/api/auth/login').send({ email: victim.user.email, password: DEFAULT_PASSWORD })).status).toBe(200);
    });

    it('does not let an admin suspend themself', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const res = await request(ctx.app).patch(`/api/admin/users/${admin.user.id}/status`).set('Authorization', admin.bearer).send({ status: 'suspended' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('CANNOT_SUSPEND_SELF');
      expect((await User.findByPk(admin.user.id))?.status).toBe('approved');
    });

    it('lists, filters, searches and pages users for admins, without secrets', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const marker = `Zed${uniqueSuffix()}`;
      for (let i = 0; i < 3; i += 1) await createUser({ name: `${marker} Person ${i}` });
      const page = await request(ctx.app).get('/api/admin/users').query({ search: marker.toLowerCase(), limit: 2, page: 1 }).set('Authorization', admin.bearer);
      expect(page.status).toBe(200);
      expect(page.body.data.users).toHaveLength(2);
      expect(page.body.data.pagination).toEqual({ page: 1, limit: 2, total: 3, totalPages: 2 });
      page.body.data.users.forEach(expectNoSecrets);
      const wildcard = await request(ctx.app).get('/api/admin/users').query({ search: '%' }).set('Authorization', admin.bearer);
      expect(wildcard.body.data.pagination.total).toBe(0);
      const admins = await request(ctx.app).get('/api/admin/users').query({ role: 'admin' }).set('Authorization', admin.bearer);
      expect(admins.body.data.users.every((u: { role: string }) => u.role === 'admin')).toBe(true);
      const bad = await request(ctx.app).get('/api/admin/users').query({ role: 'god', limit: 1000 }).set('Authorization', admin.bearer);
      expect(bad.status).toBe(400);
      const one = await request(ctx.app).get(`/api/admin/users/${admin.user.id}`).set('Authorization', admin.bearer);
      expect(one.body.data.email).toBe(admin.user.email);
      const malformed = await request(ctx.app).get('/api/admin/users/not-a-uuid').set('Authorization', admin.bearer);
      expect(malformed.status).toBe(404);
      expect(malformed.body.error.code).toBe('USER_NOT_FOUND');
    });

    it('lets a seller edit their store profile, and nothing else', async () => {
      const admin = await signedInUser(ctx.app, { role: 'admin' });
      const email = newEmail();
      const reg = await request(ctx.app).post('/api/auth/register').send({ email, password: 'Sturdy-pass-42', name: 'Pat Seller', role: 'seller', storeName: 'Pat Place' });
      await request(ctx.app).post(`/api/admin/sellers/${reg.body.data.user.id}/approve`).set('Authorization', admin.bearer).send({});
      const tokens = await login(ctx.app, email, 'Sturdy-pass-42');
      const bearer = `Bearer ${tokens.accessToken}`;
      const res = await request(ctx.app).patch('/api/seller/profile').set('Authorization', bearer).send({ storeDescription: 'Now with more stuff', payoutDetails: { iban: 'DE00123' } });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ storeDescription: 'Now with more stuff', payoutDetails: { iban: 'DE00123' } });
      const sneaky = await request(ctx.app).patch('/api/seller/profile').set('Authorization', bearer).send({ commissionRate: '0' });
      expect(sneaky.status).toBe(400);
    });
  });
});

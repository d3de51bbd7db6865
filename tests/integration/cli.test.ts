import { spawn } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { User } from '../../src/models';
import { verifyPassword } from '../../src/utils/password';
import { createUser } from '../fixtures';
import { useTestApp } from '../support/app';
import { databaseUrl } from '../support/database';

const root = path.resolve(__dirname, '..', '..');

function run(script: string, args: string[], databaseName: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', script, ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl(databaseName), LOG_LEVEL: 'error', REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('operator commands', () => {
  const ctx = useTestApp();

  it('npm run migrate finds nothing to do on a migrated database', async () => {
    const { code, output } = await run('src/cli/migrate.ts', ['up'], ctx.db.name);
    expect(code).toBe(0);
    expect(output).toContain('Nothing to migrate');
  }, 30_000);

  it('npm run admin:create refuses weak passwords and bad usage, creates an admin, and promotes an account', async () => {
    const weak = await run('src/cli/admin-create.ts', ['--email', 'boss@example.test', '--password', 'password', '--name', 'Boss'], ctx.db.name);
    expect(weak.code).toBe(1);
    expect(weak.output).toContain('--password');
    const usage = await run('src/cli/admin-create.ts', ['--email', 'boss@example.test'], ctx.db.name);
    expect(usage.code).toBe(1);
    expect(usage.output).toContain('usage');
    expect(await User.count({ where: { email: 'boss@example.test' } })).toBe(0);

    const created = await run('src/cli/admin-create.ts', ['--email', 'Boss@Example.test', '--password', 'Corner-office-9', '--name', 'The Boss'], ctx.db.name);
    expect(created.code).toBe(0);
    expect(created.output).toContain('Created admin boss@example.test');
    expect(created.output).not.toContain('Corner-office-9');
    const login = await request(ctx.app).post('/api/auth/login').send({ email: 'boss@example.test', password: 'Corner-office-9' });
    expect(login.body.data.user).toMatchObject({ role: 'admin', status: 'approved' });
    const admin = await request(ctx.app).get('/api/admin/users').set('Authorization', `Bearer ${login.body.data.accessToken}`);
    expect(admin.status).toBe(200);

    const customer = await createUser({ status: 'suspended' });
    const promoted = await run('src/cli/admin-create.ts', ['--email', customer.email, '--password', 'Promoted-pass-7', '--name', 'Promoted One'], ctx.db.name);
    expect(promoted.code).toBe(0);
    await customer.reload();
    expect(customer).toMatchObject({ role: 'admin', status: 'approved', name: 'Promoted One' });
    expect(await verifyPassword('Promoted-pass-7', customer.password)).toBe(true);
  }, 60_000);
});

import { jsonLine, redact } from '../../src/platform/utils/logger';

const MESSAGE = Symbol.for('message');

function lineOf(info: Record<string, unknown>): string {
  const done = jsonLine().transform({ level: 'info', message: 'request', ...info }) as unknown as Record<symbol, string>;
  return done[MESSAGE];
}

describe('jsonLine', () => {
  it('writes the entry as one JSON object, undefined fields left out', () => {
    const line = lineOf({ requestId: 'r-1', status: 200, durationMs: 1.5, userId: undefined });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ level: 'info', message: 'request', requestId: 'r-1', status: 200, durationMs: 1.5 });
  });

  it('still writes a line for a value JSON.stringify refuses (a cycle, a BigInt)', () => {
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    const line = lineOf({ cycle, big: 12n });
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).toMatchObject({ message: 'request', cycle: { name: 'loop', self: '[Circular]' }, big: '12' });
  });
});

describe('redact', () => {
  it('writes nothing it did not look through: a secret nested deeper than it looks is cut off, not written', () => {
    let nested: Record<string, unknown> = { password: 'deep-secret-1' };
    for (let level = 0; level < 10; level += 1) nested = { inner: nested };
    const line = JSON.stringify(redact({ nested }));
    expect(line).not.toContain('deep-secret-1');
    expect(line).toContain('[truncated]');
  });

  it('masks secrets by name, keeps dates as dates and writes binary data as its size', () => {
    const at = new Date('2026-12-06T12:00:00.000Z');
    const out = redact({ user: { email: 'a@example.test', passwordHash: 'x', refreshToken: 'y' }, at, body: Buffer.from('secret bytes') });
    expect(JSON.parse(JSON.stringify(out))).toEqual({
      user: { email: 'a@example.test', passwordHash: '[redacted]', refreshToken: '[redacted]' },
      at: '2026-12-06T12:00:00.000Z',
      body: '[12 bytes]',
    });
  });
});

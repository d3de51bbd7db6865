import { jsonLine } from '../../src/platform/utils/logger';

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

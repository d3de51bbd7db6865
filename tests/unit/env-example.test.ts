import fs from 'node:fs';
import path from 'node:path';
import { environmentVariables } from '../../src/platform/config';

/**
 * .env.example is where a new user learns the configuration: every variable the config reads is
 * there (set, or commented out), and where the code has a default, the value shown is that default.
 */
function documented(): Map<string, string> {
  const text = fs.readFileSync(path.resolve(__dirname, '..', '..', '.env.example'), 'utf8');
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^#?\s?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match || values.has(match[1])) continue;
    values.set(match[1], match[2].trim().replace(/^"(.*)"$/, '$1'));
  }
  return values;
}

describe('.env.example', () => {
  const variables = environmentVariables();
  const example = documented();

  it('lists every variable the configuration reads', () => {
    expect(variables.length).toBeGreaterThan(40);
    expect(variables.map(({ name }) => name).filter((name) => !example.has(name))).toEqual([]);
  });

  it("shows the code's default wherever there is one", () => {
    const differing = variables
      .filter(({ name, defaultValue }) => defaultValue !== undefined && example.get(name) !== String(defaultValue))
      .map(({ name, defaultValue }) => `${name}: .env.example says ${JSON.stringify(example.get(name))}, the code ${JSON.stringify(String(defaultValue))}`);
    expect(differing).toEqual([]);
  });

  it('documents no variable the configuration does not read', () => {
    const read = new Set(variables.map(({ name }) => name));
    expect([...example.keys()].filter((name) => !read.has(name))).toEqual([]);
  });
});

/**
 * How guessable a production secret is. Shannon entropy alone rates any string of many different
 * characters high, `abcdefghijklmnopqrstuvwxyz012345` at 160 bits, yet runs, keyboard rows and
 * repeated blocks are the first things a cracker tries. So the characters that follow such a
 * pattern are taken out first, and only what is left is rated.
 */

/** Words of tutorial and template secrets ("your-super-secret-jwt-key-change-this"): they add nothing unguessable. */
const PLACEHOLDER_WORDS =
  /changeme|change|secret|your|jwt|key|token|password|passwd|example|placeholder|replace|default|sample|dummy|test|demo|production|prod|refresh|access|super|this|here|insert|todo|admin|qwerty|letmein/gi;

const SEPARATORS = /[-_.\s]/;

/**
 * US keyboard rows, unshifted and shifted, each with where its first key sits across the keyboard:
 * neighbours on a row (`qwer`) or down a column (`1qaz`) are a keyboard walk.
 */
const KEYBOARD_ROWS: Array<[unshifted: string, shifted: string, offset: number]> = [
  ['`1234567890-=', '~!@#$%^&*()_+', 0],
  ['qwertyuiop[]\\', 'QWERTYUIOP{}|', 1],
  ["asdfghjkl;'", 'ASDFGHJKL:"', 1],
  ['zxcvbnm,./', 'ZXCVBNM<>?', 1],
];
const KEY_POSITION = new Map<string, { row: number; x: number }>();
KEYBOARD_ROWS.forEach(([unshifted, shifted, offset], row) => {
  for (const keys of [unshifted, shifted]) [...keys].forEach((key, column) => KEY_POSITION.set(key, { row, x: offset + column }));
});

/** A run, a walk or a repeat shorter than this is what random text holds by chance. */
const MIN_PATTERN_LENGTH = 4;

/** Fewer different characters than this in 32 or more is no random secret (32 hex digits hold 14 on average). */
export const MIN_DISTINCT_CHARACTERS = 8;

export type SecretPattern = 'placeholder' | 'repeated-character' | 'run' | 'keyboard-row' | 'repeated-block';

export const PATTERN_NAMES: Record<SecretPattern, string> = {
  placeholder: 'placeholder words',
  'repeated-character': 'a repeated character',
  run: 'a run such as abcd… or 0123…',
  'keyboard-row': 'a keyboard row or column such as qwerty… or 1qaz…',
  'repeated-block': 'a repeated block',
};

function characterClass(char: string): 'digit' | 'letter' | 'other' {
  if (/[0-9]/.test(char)) return 'digit';
  if (/[a-z]/i.test(char)) return 'letter';
  return 'other';
}

/** The patterns by which `next` follows `previous`: the same character, the next one up or down, a key's neighbour. */
function stepsBetween(previous: string, next: string): Set<string> {
  const steps = new Set<string>();
  const a = previous.toLowerCase();
  const b = next.toLowerCase();
  if (a === b) steps.add('same');
  const cls = characterClass(a);
  if (cls !== 'other' && cls === characterClass(b)) {
    const delta = b.charCodeAt(0) - a.charCodeAt(0);
    if (delta === 1) steps.add('up');
    if (delta === -1) steps.add('down');
  }
  const from = KEY_POSITION.get(previous);
  const to = KEY_POSITION.get(next);
  if (from && to) {
    if (from.row === to.row && Math.abs(to.x - from.x) === 1) steps.add(to.x > from.x ? 'right' : 'left');
    if (from.x === to.x && Math.abs(to.row - from.row) === 1) steps.add(to.row > from.row ? 'key-below' : 'key-above');
  }
  return steps;
}

function patternOfStep(step: string): SecretPattern {
  if (step === 'same') return 'repeated-character';
  if (step === 'up' || step === 'down') return 'run';
  return 'keyboard-row';
}

export interface SecretAnalysis {
  /** A rough upper bound of the unguessable bits: the Shannon entropy of what no pattern explains. */
  bits: number;
  distinctCharacters: number;
  /** The patterns found, most characters first. */
  patterns: SecretPattern[];
}

/**
 * Marks the characters explained by a pattern (placeholder words, runs up or down the alphabet or
 * the digits, keyboard walks, blocks seen before in the secret, separators) and rates the rest.
 */
export function analyzeSecret(value: string): SecretAnalysis {
  const chars = [...value];
  const lower = chars.map((char) => char.toLowerCase());
  const explainedBy: Array<SecretPattern | 'separator' | undefined> = chars.map((char) => (SEPARATORS.test(char) ? 'separator' : undefined));
  // How many characters each pattern explains: one character may follow several (`abcabc`).
  const reach = new Map<SecretPattern, Set<number>>();
  const mark = (from: number, to: number, pattern: SecretPattern) => {
    const covered = reach.get(pattern) ?? new Set<number>();
    reach.set(pattern, covered);
    for (let i = from; i < to; i += 1) {
      explainedBy[i] ??= pattern;
      covered.add(i);
    }
  };

  // Index into the code points, not UTF-16 units: the marks are per character.
  const text = chars.join('');
  for (const match of text.matchAll(PLACEHOLDER_WORDS)) {
    const start = [...text.slice(0, match.index)].length;
    mark(start, start + [...match[0]].length, 'placeholder');
  }

  // Runs and walks: a stretch whose every step follows one rule (up, down, same, left or right on a row).
  const steps = chars.map((char, i) => (i === 0 ? new Set<string>() : stepsBetween(chars[i - 1], char)));
  for (let i = 1; i < chars.length; ) {
    let common = steps[i];
    let end = i + 1;
    while (end < chars.length && common.size > 0) {
      const shared = new Set([...common].filter((step) => steps[end].has(step)));
      if (shared.size === 0) break;
      common = shared;
      end += 1;
    }
    // Steps i..end-1 join the characters i-1..end-1; the step that broke the run may start the next.
    if (common.size > 0 && end - i + 1 >= MIN_PATTERN_LENGTH) mark(i - 1, end, patternOfStep([...common][0]));
    i = Math.max(end, i + 1);
  }

  // Repeated blocks: the longest stretch at each position that already occurred earlier (overlap allowed).
  const occursBefore = (from: number, length: number): boolean => {
    for (let j = 0; j < from; j += 1) {
      let same = 0;
      while (same < length && lower[j + same] === lower[from + same]) same += 1;
      if (same === length) return true;
    }
    return false;
  };
  for (let i = 1; i < lower.length; ) {
    let length = 0;
    while (i + length < lower.length && occursBefore(i, length + 1)) length += 1;
    if (length >= MIN_PATTERN_LENGTH) {
      mark(i, i + length, 'repeated-block');
      i += length;
    } else {
      i += 1;
    }
  }

  const rest = chars.filter((_, i) => explainedBy[i] === undefined);
  const counts = new Map<string, number>();
  for (const char of rest) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bitsPerChar = 0;
  for (const count of counts.values()) bitsPerChar -= (count / rest.length) * Math.log2(count / rest.length);

  return {
    bits: bitsPerChar * rest.length,
    distinctCharacters: new Set(chars.filter((char) => !SEPARATORS.test(char))).size,
    patterns: [...reach.entries()].sort((a, b) => b[1].size - a[1].size).map(([pattern]) => pattern),
  };
}

/** The unguessable bits of `analyzeSecret`, for callers that need only the number. */
export function estimatedSecretBits(value: string): number {
  return analyzeSecret(value).bits;
}

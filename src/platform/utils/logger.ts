import winston from 'winston';
import { config } from '../config';

const SECRET_KEYS = /pass(word)?|token|secret|authorization|cookie|hash|api[-_]?key/i;

/** Masks any field whose name says it holds a secret, however deep; log lines never carry one. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Deeper than this is not looked through, so it is not written either: a secret could be there.
  if (depth > 6) return '[truncated]';
  if (value instanceof Date) return value;
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEYS.test(key) ? '[redacted]' : redact(inner, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    info[key] = SECRET_KEYS.test(key) ? '[redacted]' : redact(info[key]);
  }
  return info;
});

/** Renders a metadata value for a text line: strings bare unless they hold spaces, the rest as JSON. */
function textValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/**
 * Development: a line a person reads (`API ready at …`), the level only when it is not info,
 * metadata as key=value after the message. Production and tests keep one JSON object per line,
 * which log collectors parse.
 */
const textFormat = winston.format.printf((info) => {
  const { level, message, timestamp: _timestamp, service: _service, ...meta } = info;
  const details = Object.entries(meta)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${textValue(value)}`)
    .join(' ');
  return `${level === 'info' ? '' : `${level}: `}${String(message)}${details ? `  ${details}` : ''}`;
});

const MESSAGE = Symbol.for('message');
const winstonJson = winston.format.json();

/**
 * One JSON object per line. JSON.stringify writes a line in about half the time of winston's json
 * format (safe-stable-stringify, which sorts keys and looks for cycles), and a request writes one
 * line; the rare value JSON.stringify refuses (a cycle, a BigInt) goes through winston's.
 */
export const jsonLine = winston.format((info) => {
  try {
    (info as unknown as Record<symbol, string>)[MESSAGE] = JSON.stringify(info);
    return info;
  } catch {
    return winstonJson.transform(info, winstonJson.options);
  }
});

function createLogger(): winston.Logger {
  const format = config.env === 'development' ? textFormat : jsonLine();
  return winston.createLogger({
    level: config.logLevel,
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), format),
    defaultMeta: { service: 'marketplace-api' },
    transports: [new winston.transports.Console({ silent: config.isTest && !process.env.LOG_IN_TESTS })],
  });
}

let instance: winston.Logger | undefined;

function current(): winston.Logger {
  instance ??= createLogger();
  return instance;
}

/**
 * The process logger, made on first use rather than at import: importing it must not read the
 * configuration, so that a bad variable reaches the start-up code's "Configuration error" line
 * instead of escaping as an exception while modules load.
 */
export const logger: winston.Logger = new Proxy({} as winston.Logger, {
  get(_target, property) {
    const target = current();
    const value: unknown = Reflect.get(target, property, target);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  },
  set(_target, property, value: unknown) {
    return Reflect.set(current(), property, value);
  },
});

import winston from 'winston';
import { config } from '../config';

const SECRET_KEYS = /pass(word)?|token|secret|authorization|cookie|hash|api[-_]?key/i;

/** Masks any field whose name says it holds a secret, however deep; log lines never carry one. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
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

export const logger = winston.createLogger({
  level: config.logLevel,
  format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
  defaultMeta: { service: 'marketplace-api' },
  transports: [new winston.transports.Console({ silent: config.isTest && !process.env.LOG_IN_TESTS })],
});

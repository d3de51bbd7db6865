import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { config, type AppConfig } from '../config';
import { logger } from '../utils/logger';

export interface MailMessage {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Makes the mail one message however often it is sent: its Message-ID, and its file in the outbox folder. */
  identity?: MailIdentity;
}

/** A mail's own name: a key (its job id) and the time it was decided, the same on every try. */
export interface MailIdentity {
  key: string;
  createdAt: Date;
}

/** A Message-ID named after the mail's identity (receivers drop a second copy), in the sender's domain. */
export function messageIdOf(identity: MailIdentity, from: string): string {
  const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'localhost';
  return `<${safeKey(identity.key)}.${identity.createdAt.getTime()}@${domain}>`;
}

function safeKey(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
}

export interface MailTransport {
  readonly kind: 'smtp' | 'outbox';
  send(message: MailMessage): Promise<{ messageId: string }>;
  close(): Promise<void>;
}

export type MailConfig = AppConfig['mail'];

export interface MailTransportOptions {
  /** Replaces `config.mail` (tests point the SMTP transport at a local server). */
  mail?: MailConfig;
  /** Replaces `config.dataDir` for the outbox. */
  dataDir?: string;
}

type SmtpConfig = NonNullable<MailConfig['smtp']>;

/** SMTP when SMTP_HOST is configured, else `.eml` files in DATA_DIR/outbox (development, tests). */
export function createMailTransport(options: MailTransportOptions = {}): MailTransport {
  const mail = options.mail ?? config.mail;
  if (mail.smtp) return createSmtpTransport(mail.smtp, mail.from);
  return createOutboxTransport(path.join(options.dataDir ?? config.dataDir, 'outbox'), mail.from);
}

function createSmtpTransport(smtp: SmtpConfig, from: string): MailTransport {
  const transporter = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.user ? { user: smtp.user, pass: smtp.pass } : undefined,
    // A worker sends bursts of mails: reuse connections instead of a handshake per message.
    pool: true,
    maxConnections: 5,
    // A silent SMTP server must fail the job (and let it retry), not hold a worker slot forever.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    kind: 'smtp',
    async send({ identity, ...message }) {
      const info = await transporter.sendMail({ from, ...message, messageId: identity ? messageIdOf(identity, from) : undefined });
      return { messageId: info.messageId };
    },
    async close() {
      transporter.close();
    },
  };
}

/**
 * A name that sorts by creation time and is safe on every filesystem (no colons). A mail with an
 * identity always gets the same name, so a second try finds it written.
 */
function outboxFileName(identity?: MailIdentity): string {
  const stamp = (identity?.createdAt ?? new Date()).toISOString().replace(/:/g, '-');
  return `${stamp}-${identity ? safeKey(identity.key) : crypto.randomBytes(6).toString('hex')}.eml`;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function createOutboxTransport(dir: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'outbox',
    async send({ identity, ...message }) {
      const file = path.join(dir, outboxFileName(identity));
      const messageId = identity ? messageIdOf(identity, from) : undefined;
      if (messageId && (await exists(file))) {
        logger.info('mail already written to outbox, not written again', { file, messageId });
        return { messageId };
      }
      const info = await transporter.sendMail({ from, ...message, messageId });
      await fs.mkdir(dir, { recursive: true });
      // Written under a temporary name and renamed, so whoever watches the folder never reads half a mail.
      const partial = `${file}.part`;
      await fs.writeFile(partial, info.message as Buffer);
      await fs.rename(partial, file);
      logger.debug('mail written to outbox', { file, messageId: info.messageId });
      return { messageId: info.messageId };
    },
    async close() {
      transporter.close();
    },
  };
}

import fs from 'node:fs';
import path from 'node:path';
import { config } from '../../src/platform/config';

export interface OutboxMail {
  file: string;
  to: string;
  subject: string;
  raw: string;
}

function header(raw: string, name: string): string {
  const match = new RegExp(`^${name}:\\s*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw);
  return match ? match[1].replace(/\r?\n[ \t]+/g, ' ').trim() : '';
}

function decodeSubject(subject: string): string {
  return subject.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_m, encoding: string, text: string) =>
    encoding.toLowerCase() === 'b' ? Buffer.from(text, 'base64').toString('utf8') : text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, hex: string) => String.fromCharCode(parseInt(hex, 16))),
  );
}

/** The mails written to DATA_DIR/outbox for this recipient, oldest first. */
export function outboxFor(recipient: string): OutboxMail[] {
  const dir = path.join(config.dataDir, 'outbox');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.eml'))
    .sort()
    .map((file) => {
      const raw = fs.readFileSync(path.join(dir, file), 'utf8');
      return { file, to: header(raw, 'To'), subject: decodeSubject(header(raw, 'Subject')), raw };
    })
    .filter((mail) => mail.to.toLowerCase().includes(recipient.toLowerCase()));
}

/** Undoes quoted-printable soft line breaks and escapes, so a link in a mail can be matched whole. */
export function decodedBody(mail: OutboxMail): string {
  return mail.raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The token in the first link of `pathName` (e.g. /reset-password) in the newest mail to `recipient`. */
export function tokenFromMail(recipient: string, pathName: string): string {
  const mails = outboxFor(recipient);
  for (const mail of mails.reverse()) {
    const match = new RegExp(`${pathName}\\?token=([A-Za-z0-9_%-]+)`).exec(decodedBody(mail));
    if (match) return decodeURIComponent(match[1]);
  }
  throw new Error(`no mail to ${recipient} with a ${pathName} link`);
}

import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { config } from '../config';
import { createMailTransport, type MailMessage, type MailTransport } from './transport';
import { logger } from '../utils/logger';
import { seal, unseal } from '../utils/tokens';

export const EMAIL_TEMPLATES = [
  'welcome',
  'email-verification',
  'password-reset',
  'order-confirmation',
  'order-shipped',
  'seller-approved',
  'seller-rejected',
  'low-stock',
  'payout-paid',
  'return-update',
  'webhook-disabled',
] as const;

export type EmailTemplate = (typeof EMAIL_TEMPLATES)[number];

/** One line of the order confirmation; amounts arrive formatted (e.g. "$12.50"), the template only prints them. */
export interface EmailOrderItem {
  name: string;
  quantity: number | string;
  lineTotal: string;
  unitPrice?: string;
}

/**
 * A secret in mail data (a verification or reset link). Mail data waits in the outbox table and
 * then in the job queue (kept there after the job ran, for job-id deduplication), so a plain link
 * would sit in storage ready for anyone who reads it: sealed, it is of no use without the
 * server's secret. The mail service opens it only to render the mail.
 */
export interface SealedMailValue {
  sealed: string;
}

const MAIL_SEAL_PURPOSE = 'mail-data';

export function sealForMail(value: string): SealedMailValue {
  return { sealed: seal(value, config.jwt.secret, MAIL_SEAL_PURPOSE) };
}

function isSealed(value: object): value is SealedMailValue {
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'sealed' && typeof (value as { sealed?: unknown }).sealed === 'string';
}

/** Line and paragraph breaks, every other control character, and the bidi overrides that reorder what follows them. */
const OFF_THE_LINE = /[\p{Cc}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]+/gu;

/**
 * Mail data as templates see it: sealed values opened, and every string kept on the one line the
 * template puts it on (what would break or reorder the line becomes a space). A name, a store
 * name or a reason typed by someone else can then not add lines that read as ours in the text
 * part; HTML parts also escape it.
 */
function templateData(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(OFF_THE_LINE, ' ');
  if (Array.isArray(value)) return depth < 8 ? value.map((item) => templateData(item, depth + 1)) : [];
  if (value && typeof value === 'object') {
    if (isSealed(value)) return templateData(unseal(value.sealed, config.jwt.secret, MAIL_SEAL_PURPOSE), depth);
    if (depth >= 8) return {};
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, templateData(inner, depth + 1)]));
  }
  return value;
}

/**
 * What each template reads. `name` is the recipient's display name ("Hello there" without it).
 * Common fields (`companyName`, `supportEmail`, `frontendUrl`, `year`) are added by the service.
 */
export interface EmailTemplateData {
  /** `isSeller`: the account waits for approval, so the mail says so instead of "start shopping". */
  welcome: { name?: string; isSeller?: boolean; loginUrl?: string };
  'email-verification': { name?: string; verifyUrl: string | SealedMailValue; expiresInMinutes?: number };
  'password-reset': { name?: string; resetUrl: string | SealedMailValue; expiresInMinutes?: number };
  'order-confirmation': {
    name?: string;
    orderNumber: string;
    orderUrl?: string;
    items: EmailOrderItem[];
    subtotal: string;
    discount?: string;
    shipping?: string;
    tax?: string;
    total: string;
  };
  'order-shipped': {
    name?: string;
    orderNumber: string;
    trackingNumber?: string;
    trackingUrl?: string;
    carrier?: string;
    estimatedDelivery?: string;
    orderUrl?: string;
    /** One entry per tracking number of a multi-seller order; `items` names what is in that parcel. */
    shipments?: Array<{ trackingNumber: string | null; trackingUrl: string | null; items: string }>;
  };
  'seller-approved': { name?: string; storeName?: string; dashboardUrl?: string };
  'seller-rejected': { name?: string; storeName?: string; reason: string };
  'payout-paid': { name?: string; amount: string; reference?: string; itemCount: number };
  /** An endpoint turned off after its deliveries failed for 3 days. */
  'webhook-disabled': { name?: string; endpointUrl: string; failingSince: string };
  /** A return approved (send the parcel), rejected (with the seller's note) or refunded (`amount`). */
  'return-update': { name?: string; orderNumber: string; status: 'approved' | 'rejected' | 'refunded'; items: string; note?: string; amount?: string; orderUrl?: string };
  'low-stock': { name?: string; productName: string; productId: string; stockQuantity: number; lowStockThreshold: number; dashboardUrl?: string };
}

export type RenderedMail = Omit<MailMessage, 'to'>;

type Render = (context: Record<string, unknown>) => string;

export interface CompiledTemplate {
  subject: Render;
  html: Render;
  text: Render;
}

export type CompiledTemplates = Readonly<Record<EmailTemplate, CompiledTemplate>>;

const PARTS = ['subject', 'html', 'text'] as const;

/**
 * The repository root, from src/ (tsx, jest) as from dist/src/ (compiled). tsc copies
 * package.json into dist/ (app.ts imports it), so the first package.json up the tree is
 * not enough: the root is the one that also holds templates/.
 */
function defaultTemplatesDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'templates', 'email');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No templates/email folder next to a package.json above ${__dirname}`);
    dir = parent;
  }
}

function readTemplateFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`Email template file is missing: ${file}`);
    throw error;
  }
}

const HTML_SPECIALS: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * `{{url x}}`: only http(s) and mailto links reach the HTML (a seller-supplied tracking URL cannot
 * become `javascript:`), escaped for an attribute but keeping `=` readable, unlike plain `{{x}}`.
 */
function safeUrl(value: unknown): Handlebars.SafeString {
  const text = typeof value === 'string' ? value.trim() : '';
  const allowed = /^(https?:\/\/|mailto:)/i.test(text) ? text : '#';
  return new Handlebars.SafeString(allowed.replace(/[&<>"']/g, (char) => HTML_SPECIALS[char]));
}

function createEnvironment(): typeof Handlebars {
  const env = Handlebars.create();
  env.registerHelper('url', safeUrl);
  env.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).find(Boolean) ?? '');
  env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  env.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map((part) => String(part ?? '')).join(''));
  return env;
}

/**
 * Compiles every template once, at start. A missing file or a syntax error throws here,
 * naming the file, instead of failing the first time someone needs that mail.
 * Layout: `<name>.subject.hbs`, `<name>.html.hbs`, `<name>.text.hbs`, and `partials/*.{html,text}.hbs`.
 * HTML parts escape data; text parts and subjects do not (they are not HTML).
 */
export function compileTemplates(dir: string = defaultTemplatesDir()): CompiledTemplates {
  const env = createEnvironment();
  const compile = (file: string, noEscape: boolean): Render => {
    const source = readTemplateFile(file);
    try {
      // precompile parses eagerly: a syntax error surfaces now, with the file name.
      env.precompile(source, { noEscape });
    } catch (error) {
      throw new Error(`Email template ${file} does not compile: ${(error as Error).message}`);
    }
    return env.compile(source, { noEscape });
  };

  const partialsDir = path.join(dir, 'partials');
  if (fs.existsSync(partialsDir)) {
    for (const entry of fs.readdirSync(partialsDir)) {
      const match = /^(.+)\.(html|text)\.hbs$/.exec(entry);
      if (!match) continue;
      // Compiled here rather than registered as strings, so each keeps its own escaping rule.
      env.registerPartial(match[1], compile(path.join(partialsDir, entry), match[2] === 'text'));
    }
  }

  const compiled = {} as Record<EmailTemplate, CompiledTemplate>;
  const sample = commonContext();
  for (const name of EMAIL_TEMPLATES) {
    const parts = {} as Record<(typeof PARTS)[number], Render>;
    for (const part of PARTS) {
      const file = path.join(dir, `${name}.${part}.hbs`);
      const render = compile(file, part !== 'html');
      try {
        // A partial that does not exist only shows when rendering: render once to find out now.
        render(sample);
      } catch (error) {
        throw new Error(`Email template ${file} does not render: ${(error as Error).message}`);
      }
      parts[part] = render;
    }
    compiled[name] = parts;
  }
  return Object.freeze(compiled);
}

function commonContext(): Record<string, unknown> {
  return {
    companyName: config.companyName,
    supportEmail: config.supportEmail,
    frontendUrl: config.frontendUrl,
    year: new Date().getFullYear(),
  };
}

export class MailService {
  constructor(
    private readonly transport: MailTransport,
    private readonly templates: CompiledTemplates,
  ) {}

  get transportKind(): MailTransport['kind'] {
    return this.transport.kind;
  }

  /** Renders subject, HTML and text of a template; pure, sends nothing. */
  render(template: EmailTemplate, data: Record<string, unknown> = {}): RenderedMail {
    const compiled = this.templates[template];
    if (!compiled) throw new Error(`Unknown email template: ${template}`);
    const context = { ...commonContext(), ...(templateData(data) as Record<string, unknown>) };
    return {
      // A header: one line, whatever the template's whitespace.
      subject: compiled.subject(context).replace(/\s+/g, ' ').trim(),
      html: compiled.html(context),
      text: compiled.text(context),
    };
  }

  /**
   * Renders and sends one mail. Throws when the transport fails, so a job retries it. With `job`
   * (the job that sends it), every try is the same message: one Message-ID, one outbox file.
   */
  async send(template: EmailTemplate, to: string, data: Record<string, unknown> = {}, job?: { id: string; recordedAt: Date }): Promise<{ messageId: string }> {
    const identity = job ? { key: job.id, createdAt: job.recordedAt } : undefined;
    const result = await this.transport.send({ to, ...this.render(template, data), identity });
    logger.info('mail sent', { template, transport: this.transport.kind, messageId: result.messageId });
    return result;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

let instance: MailService | undefined;

/** The process-wide mail service, created on first use (templates compiled then). */
export function getMailService(): MailService {
  instance ??= new MailService(createMailTransport(), compileTemplates());
  return instance;
}

export async function closeMail(): Promise<void> {
  const current = instance;
  instance = undefined;
  await current?.close();
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { config } from '../../src/platform/config';
import { createMailTransport, type MailTransport } from '../../src/platform/mail/transport';
import {
  EMAIL_TEMPLATES,
  MailService,
  closeMail,
  compileTemplates,
  getMailService,
  type EmailTemplate,
  type EmailTemplateData,
} from '../../src/platform/mail/mail.service';

interface ReceivedMail {
  rcptTo: string[];
  raw: string;
}

interface ParsedMail {
  headers: Record<string, string>;
  parts: Array<{ contentType: string; body: string }>;
}

/** Just enough MIME for nodemailer's output: headers, one multipart level, quoted-printable or base64 parts. */
function parseMail(raw: string): ParsedMail {
  const split = raw.search(/\r?\n\r?\n/);
  const readHeaders = (block: string): Record<string, string> => {
    const headers: Record<string, string> = {};
    for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return headers;
  };
  const decode = (body: string, encoding = ''): string => {
    if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (/quoted-printable/i.test(encoding)) {
      const joined = body.replace(/=\r?\n/g, '');
      const bytes: number[] = [];
      for (let i = 0; i < joined.length; i += 1) {
        if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(joined.slice(i + 1, i + 3))) {
          bytes.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
          i += 2;
        } else bytes.push(...Buffer.from(joined[i], 'utf8'));
      }
      return Buffer.from(bytes).toString('utf8');
    }
    return body;
  };
  const headers = readHeaders(raw.slice(0, split));
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary) return { headers, parts: [{ contentType: headers['content-type'] ?? '', body: decode(body, headers['content-transfer-encoding']) }] };
  const parts = body
    .split(`--${boundary}`)
    .slice(1)
    .filter((chunk) => !chunk.startsWith('--'))
    .map((chunk) => {
      const trimmed = chunk.replace(/^\r?\n/, '');
      const at = trimmed.search(/\r?\n\r?\n/);
      const partHeaders = readHeaders(trimmed.slice(0, at));
      const partBody = trimmed.slice(at).replace(/^\r?\n\r?\n/, '').replace(/\r?\n$/, '');
      return { contentType: partHeaders['content-type'] ?? '', body: decode(partBody, partHeaders['content-transfer-encoding']) };
    });
  return { headers, parts };
}

const HOSTILE = `<script>alert("x")</script> & 'Co'`;
const HOSTILE_ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;Co&#x27;';

/** Data for every template; each carries the hostile string where a caller's value is printed. */
const samples: { [T in EmailTemplate]: { data: EmailTemplateData[T]; subject: RegExp; mustContain: string[] } } = {
  welcome: { data: { name: HOSTILE }, subject: /^Welcome to /, mustContain: [] },
  'email-verification': {
    data: { name: HOSTILE, verifyUrl: 'http://shop.test/verify-email?token=abc&x=1', expiresInMinutes: 60 },
    subject: /Confirm your email address/,
    mustContain: ['http://shop.test/verify-email?token=abc'],
  },
  'password-reset': {
    data: { name: HOSTILE, resetUrl: 'http://shop.test/reset-password?token=r3s3t', expiresInMinutes: 10 },
    subject: /Reset your .* password/,
    mustContain: ['http://shop.test/reset-password?token=r3s3t', '10 minutes'],
  },
  'order-confirmation': {
    data: {
      name: HOSTILE,
      orderNumber: 'ORD-20250101-ABC123',
      items: [
        { name: `Mug ${HOSTILE}`, quantity: 2, lineTotal: '$24.00' },
        { name: 'Tea', quantity: 1, lineTotal: '$5.50', unitPrice: '$5.50' },
      ],
      subtotal: '$29.50',
      shipping: '$4.00',
      tax: '$0.00',
      total: '$33.50',
    },
    subject: /^Order ORD-20250101-ABC123 confirmed$/,
    mustContain: ['ORD-20250101-ABC123', '$24.00', '$33.50', 'Tea'],
  },
  'order-shipped': {
    data: { name: HOSTILE, orderNumber: 'ORD-20250101-XYZ789', trackingNumber: '1Z999AA10123456784', trackingUrl: 'https://track.example/1Z999' },
    subject: /^Order ORD-20250101-XYZ789 has shipped$/,
    mustContain: ['1Z999AA10123456784', 'https://track.example/1Z999'],
  },
  'payout-paid': {
    data: { name: HOSTILE, amount: '$1,234.50', reference: 'TR-77', itemCount: 3 },
    subject: /^Payout sent: \$1,234\.50$/,
    mustContain: ['$1,234.50', 'TR-77', '3 sold item(s)'],
  },
  'return-update': {
    data: { name: HOSTILE, orderNumber: 'ORD-20250101-XYZ789', status: 'refunded', items: 'Blue Mug x 2', amount: '$21.65', note: `Thanks ${HOSTILE}` },
    subject: /^Refund of \$21\.65 for your return, order ORD-20250101-XYZ789$/,
    mustContain: ['$21.65', 'Blue Mug x 2'],
  },
  'webhook-disabled': {
    data: { name: HOSTILE, endpointUrl: 'https://erp.example.com/hooks', failingSince: '2026-12-01T10:00:00.000Z' },
    subject: /^A webhook endpoint was turned off$/,
    mustContain: ['https://erp.example.com/hooks', '2026-12-01T10:00:00.000Z'],
  },
  'low-stock': {
    data: { name: HOSTILE, productName: 'Blue Mug', productId: '00000000-0000-4000-8000-000000000001', stockQuantity: 3, lowStockThreshold: 5 },
    subject: /^Low stock: Blue Mug$/,
    mustContain: ['Blue Mug', '3 left', 'threshold is 5'],
  },
  'seller-approved': { data: { name: HOSTILE, storeName: 'Acme Goods' }, subject: /seller account is approved/, mustContain: ['Acme Goods'] },
  'seller-rejected': {
    data: { name: HOSTILE, storeName: 'Acme Goods', reason: `Missing tax id ${HOSTILE}` },
    subject: /seller application/,
    mustContain: ['Missing tax id'],
  },
};

describe('mail over SMTP', () => {
  let server: SMTPServer;
  let transport: MailTransport;
  let service: MailService;
  const received: ReceivedMail[] = [];

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push({ rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks).toString('utf8') });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    transport = createMailTransport({
      mail: { from: 'Test Shop <shop@example.test>', smtp: { host: '127.0.0.1', port, secure: false } },
    });
    service = new MailService(transport, compileTemplates());
  });

  afterAll(async () => {
    await transport.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('uses the SMTP transport when SMTP is configured', () => {
    expect(transport.kind).toBe('smtp');
  });

  it.each(EMAIL_TEMPLATES)('delivers %s with subject, recipient, an HTML and a text part, escaping data in HTML only', async (template) => {
    const sample = samples[template];
    const to = `${template}@customer.test`;
    const { messageId } = await service.send(template, to, sample.data as Record<string, unknown>);
    expect(messageId).toMatch(/@/);

    const mail = received.find((message) => message.rcptTo.includes(to));
    expect(mail).toBeDefined();
    const parsed = parseMail(mail!.raw);
    expect(parsed.headers.to).toBe(to);
    expect(parsed.headers.from).toBe('Test Shop <shop@example.test>');
    expect(parsed.headers.subject).toMatch(sample.subject);
    expect(parsed.headers['content-type']).toMatch(/^multipart\/alternative/);

    const html = parsed.parts.find((part) => part.contentType.startsWith('text/html'))?.body;
    const text = parsed.parts.find((part) => part.contentType.startsWith('text/plain'))?.body;
    expect(html).toBeDefined();
    expect(text).toBeDefined();

    expect(html).toContain(HOSTILE_ESCAPED);
    expect(html).not.toContain('<script>');
    expect(text).toContain(HOSTILE);
    expect(text).not.toMatch(/&lt;|&amp;|&quot;|&#x27;/);
    for (const fragment of sample.mustContain) {
      expect(text).toContain(fragment);
      expect(html).toContain(fragment.replace(/&/g, '&amp;'));
    }
    // The common context the service adds.
    expect(html).toContain(config.companyName);
    expect(text).toContain(config.supportEmail);
    expect(html).toContain(String(new Date().getFullYear()));
  });

  it('lists every order line in the confirmation', async () => {
    const rendered = service.render('order-confirmation', samples['order-confirmation'].data as unknown as Record<string, unknown>);
    expect(rendered.text).toContain(`- Mug ${HOSTILE} x 2: $24.00`);
    expect(rendered.text).toContain('- Tea x 1: $5.50');
    expect(rendered.text).toMatch(/Total: \$33\.50/);
  });

  it('lists every parcel of a multi-seller order in the shipping mail', () => {
    const rendered = service.render('order-shipped', {
      orderNumber: 'ORD-2',
      shipments: [
        { trackingNumber: 'TRACK-A', trackingUrl: 'https://track.example/A', items: 'Mug x 2' },
        { trackingNumber: null, trackingUrl: null, items: 'Tea x 1' },
      ],
    });
    expect(rendered.text).toContain('- Tracking number TRACK-A (https://track.example/A): Mug x 2');
    expect(rendered.text).toContain('- Untracked parcel: Tea x 1');
    expect(rendered.html).toContain('href="https://track.example/A"');
  });

  it('never puts a non-http link into an href', () => {
    const rendered = service.render('order-shipped', { orderNumber: 'ORD-1', trackingUrl: 'javascript:alert(1)' });
    expect(rendered.html).not.toMatch(/href="javascript:/i);
    expect(rendered.html).toContain('href="#"');
  });
});

describe('mail outbox', () => {
  const outbox = () => path.join(config.dataDir, 'outbox');

  it('writes each mail as a .eml file in DATA_DIR/outbox with a sortable name', async () => {
    const transport = createMailTransport({ mail: { from: 'Outbox <outbox@example.test>' } });
    expect(transport.kind).toBe('outbox');
    const service = new MailService(transport, compileTemplates());
    const before = new Set(fs.existsSync(outbox()) ? fs.readdirSync(outbox()) : []);

    await service.send('password-reset', 'outbox-reader@customer.test', { name: 'Olive', resetUrl: 'http://shop.test/reset?token=t0k' });
    await service.send('welcome', 'outbox-second@customer.test', { name: 'Second' });
    await transport.close();

    const created = fs.readdirSync(outbox()).filter((file) => !before.has(file));
    expect(created).toHaveLength(2);
    for (const file of created) expect(file).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-[0-9a-f]{12}\.eml$/);
    const [first, second] = [...created].sort().map((file) => parseMail(fs.readFileSync(path.join(outbox(), file), 'utf8')));
    expect(first.headers.to).toBe('outbox-reader@customer.test');
    expect(first.headers.from).toBe('Outbox <outbox@example.test>');
    expect(first.headers.subject).toMatch(/Reset your .* password/);
    expect(first.parts.find((part) => part.contentType.startsWith('text/plain'))?.body).toContain('http://shop.test/reset?token=t0k');
    expect(first.parts.find((part) => part.contentType.startsWith('text/html'))?.body).toContain('href="http://shop.test/reset?token=t0k"');
    expect(second.headers.to).toBe('outbox-second@customer.test');
  });

  it('is what the process-wide service uses without SMTP_HOST', async () => {
    expect(config.mail.smtp).toBeUndefined();
    const service = getMailService();
    expect(service.transportKind).toBe('outbox');
    expect(getMailService()).toBe(service);
    const { messageId } = await service.send('seller-approved', 'singleton@customer.test', { name: 'Sam', storeName: 'Sam Shop' });
    const files = fs.readdirSync(outbox()).map((file) => fs.readFileSync(path.join(outbox(), file), 'utf8'));
    expect(files.some((raw) => raw.includes(messageId) && raw.includes('singleton@customer.test'))).toBe(true);
    await closeMail();
  });
});

describe('compileTemplates', () => {
  let dir: string;
  const source = path.join(__dirname, '..', '..', 'templates', 'email');

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mail-templates-'));
    fs.cpSync(source, dir, { recursive: true });
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('compiles every template of the repository', () => {
    const compiled = compileTemplates(dir);
    expect(Object.keys(compiled).sort()).toEqual([...EMAIL_TEMPLATES].sort());
  });

  it('fails at once, naming the file, when a template is missing', () => {
    fs.rmSync(path.join(dir, 'order-shipped.text.hbs'));
    expect(() => compileTemplates(dir)).toThrow(/order-shipped\.text\.hbs/);
  });

  it('fails at once, naming the file, when a template does not compile', () => {
    fs.writeFileSync(path.join(dir, 'seller-rejected.html.hbs'), '{{#if reason}}never closed');
    expect(() => compileTemplates(dir)).toThrow(/seller-rejected\.html\.hbs/);
  });

  it('fails at once, naming the file, when a template uses a partial that does not exist', () => {
    fs.rmSync(path.join(dir, 'partials', 'footer.text.hbs'));
    expect(() => compileTemplates(dir)).toThrow(/\.text\.hbs.*footer|footer.*\.text\.hbs/);
  });
});

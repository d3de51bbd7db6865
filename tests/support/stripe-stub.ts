import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server speaking the part of Stripe's HTTP API the app uses (payment intents, refunds,
 * transfers), so that tests drive the real `stripe` SDK: form-encoded bodies, Bearer secret key,
 * Idempotency-Key replay (and refusal of a key reused with other parameters), Stripe's error
 * envelope. Tests move intents on (succeed, fail) and can make the next calls fail or hang.
 */

export interface StubIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  currency: string;
  status: 'requires_payment_method' | 'requires_confirmation' | 'processing' | 'succeeded' | 'canceled';
  client_secret: string;
  metadata: Record<string, string>;
  latest_charge: string | null;
  created: number;
  livemode: false;
}

export interface StubRefund {
  id: string;
  object: 'refund';
  amount: number;
  currency: string;
  payment_intent: string;
  charge: string | null;
  status: 'succeeded' | 'pending' | 'failed';
  metadata: Record<string, string>;
  created: number;
}

export interface StubTransfer {
  id: string;
  object: 'transfer';
  amount: number;
  currency: string;
  destination: string;
  metadata: Record<string, string>;
  created: number;
}

export interface StubCall {
  method: string;
  path: string;
  params: Record<string, unknown>;
  idempotencyKey?: string;
  status: number;
}

type Fault = 'error' | 'hang';

class StripeError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** `a[b][c]=v` form fields into nested objects, as Stripe reads them. */
function parseForm(body: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const parts = rawKey.replace(/\]/g, '').split('[');
    let target = result;
    for (const part of parts.slice(0, -1)) {
      target[part] ??= {};
      target = target[part] as Record<string, unknown>;
    }
    target[parts[parts.length - 1]] = value;
  }
  return result;
}

function id(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

const now = () => Math.floor(Date.now() / 1000);

export class StripeStub {
  readonly secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  readonly webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
  readonly intents = new Map<string, StubIntent>();
  readonly refunds = new Map<string, StubRefund>();
  readonly transfers = new Map<string, StubTransfer>();
  readonly calls: StubCall[] = [];
  private readonly idempotent = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  private readonly faults: Array<{ match: RegExp; fault: Fault }> = [];
  private readonly hanging = new Set<http.ServerResponse>();
  private server?: http.Server;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The environment that points the app's Stripe SDK here. */
  env(): Record<string, string> {
    return {
      STRIPE_SECRET_KEY: this.secretKey,
      STRIPE_WEBHOOK_SECRET: this.webhookSecret,
      STRIPE_API_HOST: '127.0.0.1',
      STRIPE_API_PORT: String(this.port),
      STRIPE_API_PROTOCOL: 'http',
    };
  }

  /** The next call whose "METHOD /path" matches answers 500 (or never answers), once. */
  failNext(match: RegExp, fault: Fault = 'error'): void {
    this.faults.push({ match, fault });
  }

  /** The customer paid: the intent succeeds and gets a charge. */
  succeed(intentId: string): StubIntent {
    const intent = this.intent(intentId);
    intent.status = 'succeeded';
    intent.amount_received = intent.amount;
    intent.latest_charge = id('ch');
    return { ...intent };
  }

  /** An intent made at Stripe for an order by some other way than the app's request (a client of its own, an older version). */
  createIntentFor(orderId: string, amount: number, currency = 'usd'): StubIntent {
    return this.createIntent({ amount: String(amount), currency, metadata: { orderId } });
  }

  cancel(intentId: string): StubIntent {
    const intent = this.intent(intentId);
    intent.status = 'canceled';
    return { ...intent };
  }

  intent(intentId: string): StubIntent {
    const intent = this.intents.get(intentId);
    if (!intent) throw new Error(`no intent ${intentId}`);
    return intent;
  }

  /** A refund made in Stripe's dashboard, outside the app. */
  dashboardRefund(intentId: string, amount: number): StubRefund {
    return this.createRefund({ payment_intent: intentId, amount: String(amount) });
  }

  refundedTotal(intentId: string): number {
    return [...this.refunds.values()].filter((refund) => refund.payment_intent === intentId && refund.status === 'succeeded').reduce((sum, refund) => sum + refund.amount, 0);
  }

  /** A Stripe event as Stripe posts it. */
  event(type: string, object: unknown, eventId = id('evt')): { id: string; payload: string } {
    const event = { id: eventId, object: 'event', api_version: '2026-10-28.endive', created: now(), livemode: false, pending_webhooks: 1, type, data: { object } };
    return { id: eventId, payload: JSON.stringify(event) };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://stub');
    const method = req.method ?? 'GET';
    const params = method === 'GET' ? Object.fromEntries(url.searchParams) : parseForm(Buffer.concat(chunks).toString('utf8'));
    const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
    const call: StubCall = { method, path: url.pathname, params, idempotencyKey, status: 0 };
    this.calls.push(call);
    const send = (status: number, body: unknown) => {
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
      res.end(JSON.stringify(body));
    };

    const faultIndex = this.faults.findIndex((fault) => fault.match.test(`${method} ${url.pathname}`));
    if (faultIndex >= 0) {
      const [{ fault }] = this.faults.splice(faultIndex, 1);
      if (fault === 'hang') {
        this.hanging.add(res);
        return;
      }
      send(500, { error: { type: 'api_error', message: 'Stripe stub: injected failure' } });
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.secretKey}`) {
      send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      return;
    }
    const fingerprint = `${method} ${url.pathname} ${JSON.stringify(params)}`;
    if (idempotencyKey && method === 'POST') {
      const previous = this.idempotent.get(idempotencyKey);
      if (previous) {
        if (previous.fingerprint !== fingerprint) {
          send(400, { error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.' } });
          return;
        }
        res.setHeader('idempotent-replayed', 'true');
        send(previous.status, previous.body);
        return;
      }
    }
    let status = 200;
    let body: unknown;
    try {
      body = this.route(method, url.pathname, params);
    } catch (error) {
      if (!(error instanceof StripeError)) throw error;
      status = error.status;
      body = { error: { type: error.type, message: error.message, code: error.code } };
    }
    if (idempotencyKey && method === 'POST') this.idempotent.set(idempotencyKey, { fingerprint, status, body });
    send(status, body);
  }

  private route(method: string, path: string, params: Record<string, unknown>): unknown {
    let match: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/payment_intents') return this.createIntent(params);
    if ((match = /^\/v1\/payment_intents\/([^/]+)$/.exec(path)) && method === 'GET') return { ...this.found(match[1]) };
    if ((match = /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(path)) && method === 'POST') {
      const intent = this.found(match[1]);
      if (intent.status === 'succeeded') throw new StripeError(400, 'invalid_request_error', 'You cannot cancel this PaymentIntent because it has a status of succeeded.', 'payment_intent_unexpected_state');
      intent.status = 'canceled';
      return { ...intent };
    }
    if (method === 'POST' && path === '/v1/refunds') return this.createRefund(params);
    if (method === 'GET' && path === '/v1/refunds') {
      const rows = [...this.refunds.values()].filter((refund) => !params.payment_intent || refund.payment_intent === params.payment_intent);
      return { object: 'list', data: rows.reverse(), has_more: false, url: '/v1/refunds' };
    }
    if (method === 'POST' && path === '/v1/transfers') {
      const transfer: StubTransfer = {
        id: id('tr'),
        object: 'transfer',
        amount: Number(params.amount),
        currency: String(params.currency),
        destination: String(params.destination),
        metadata: (params.metadata as Record<string, string>) ?? {},
        created: now(),
      };
      if (!/^acct_/.test(transfer.destination)) throw new StripeError(400, 'invalid_request_error', 'No such destination', 'resource_missing');
      this.transfers.set(transfer.id, transfer);
      return transfer;
    }
    throw new StripeError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  private createIntent(params: Record<string, unknown>): StubIntent {
    const amount = Number(params.amount);
    if (!Number.isInteger(amount) || amount < 1) throw new StripeError(400, 'invalid_request_error', 'Invalid integer amount', 'parameter_invalid_integer');
    const intentId = id('pi');
    const intent: StubIntent = {
      id: intentId,
      object: 'payment_intent',
      amount,
      amount_received: 0,
      currency: String(params.currency),
      status: 'requires_payment_method',
      client_secret: `${intentId}_secret_${randomBytes(8).toString('hex')}`,
      metadata: (params.metadata as Record<string, string>) ?? {},
      latest_charge: null,
      created: now(),
      livemode: false,
    };
    this.intents.set(intentId, intent);
    return { ...intent };
  }

  private found(intentId: string): StubIntent {
    const intent = this.intents.get(intentId);
    if (!intent) throw new StripeError(404, 'invalid_request_error', `No such payment_intent: '${intentId}'`, 'resource_missing');
    return intent;
  }

  private createRefund(params: Record<string, unknown>): StubRefund {
    const intent = this.found(String(params.payment_intent));
    if (intent.status !== 'succeeded') throw new StripeError(400, 'invalid_request_error', 'This PaymentIntent has no successful charge to refund.', 'charge_not_refundable');
    const remaining = intent.amount_received - this.refundedTotal(intent.id);
    const amount = params.amount === undefined ? remaining : Number(params.amount);
    if (amount > remaining || amount < 1) {
      throw new StripeError(400, 'invalid_request_error', `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount_too_large');
    }
    const refund: StubRefund = {
      id: id('re'),
      object: 'refund',
      amount,
      currency: intent.currency,
      payment_intent: intent.id,
      charge: intent.latest_charge,
      status: 'succeeded',
      metadata: (params.metadata as Record<string, string>) ?? {},
      created: now(),
    };
    this.refunds.set(refund.id, refund);
    return refund;
  }
}

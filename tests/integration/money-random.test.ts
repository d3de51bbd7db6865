import '../support/commerce-env';
import { randomInt } from 'node:crypto';
import { Faker, en } from '@faker-js/faker';
import { QueryTypes } from 'sequelize';
import request, { type Response } from 'supertest';
import { createAdmin, createProduct } from '../fixtures';
import { login, signedInUser, type SignedIn } from '../support/auth';
import { signedInSeller, type SignedInSeller } from '../support/catalog';
import { ADDRESS } from '../support/orders';
import { spawnWorker, type ServerProcess } from '../support/server-process';
import { useStripeApp } from '../support/stripe-app';
import { fromMinor, toMinor } from '../../src/platform/utils/money';

/**
 * A randomized run of the money paths against a real PostgreSQL and the real Stripe SDK (pointed
 * at a local stand-in of Stripe's API): customers buy limited stock from several sellers, pay by
 * card and by hand, cancel, ship, refund and dispute, with requests fired at once, webhooks
 * duplicated and out of order, injected provider failures and, with Redis, the job worker killed
 * with SIGKILL in the middle of a job. Then every money and stock invariant is audited from the
 * rows, the public API and Stripe's side.
 *
 * The choices come from MONEY_SEED (random by default; a failure names it). Each actor draws from
 * a generator of its own, so a seed replays the same choices whatever order the requests finish
 * in; the interleaving itself does not replay.
 */

const SEED = process.env.MONEY_SEED ? Number(process.env.MONEY_SEED) : randomInt(2 ** 31);
const WITH_REDIS = Boolean(process.env.REDIS_URL);
const SELLERS = 6;
const PRODUCTS = 24;
const CUSTOMERS = 60;
/**
 * A job taken by a killed worker runs again once BullMQ finds it stalled: up to three of its 30 s
 * checks, a wait no faster machine shortens. The rest is for the jobs themselves, which a loaded
 * machine can slow to a third. Only a run that hangs should meet this deadline.
 */
const SETTLE_TIMEOUT_MS = 150_000;
/** The whole run: about 80 s on an idle machine, a minute of it the stalled job's wait. */
const RUN_TIMEOUT_MS = 420_000;
const CREATE_INTENT = /^POST \/v1\/payment_intents$/;
const CREATE_REFUND = /^POST \/v1\/refunds$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** The generator of one actor's choices in one phase: FNV-1a of the label, mixed with the seed. */
function rngFor(label: string): Faker {
  let hash = 0x811c9dc5 ^ SEED;
  for (const char of label) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193);
  return new Faker({ locale: [en], seed: hash >>> 0 });
}

function failure(message: string): Error {
  return new Error(`MONEY_SEED=${SEED}: ${message}`);
}

/** round_half_up((lineTotal − refunded) × rate) in cents, from the rows, without the app's code. */
function commissionOf(lineTotal: string, refunded: string, rate: string): number {
  const base = toMinor(lineTotal) - toMinor(refunded);
  const tenThousandths = Math.round(Number(rate) * 10_000);
  return Math.floor((2 * base * tenThousandths + 10_000) / 20_000);
}

interface Seller extends SignedInSeller {
  /** A Stripe Connect account: payouts go by transfer. */
  account: string | null;
}

interface Stocked {
  id: string;
  initialStock: number;
}

interface Placed {
  /** The customer's number: it names the customer's generators. */
  index: number;
  id: string;
  customer: SignedIn;
}

interface OrderView {
  status: string;
  paymentStatus: string;
  paymentProvider: string | null;
  totalAmount: string;
  items: Array<{ id: string; sellerId: string }>;
}

interface Snapshot {
  orders: Array<{
    id: string;
    status: string;
    payment_status: string;
    payment_provider: string | null;
    payment_intent_id: string | null;
    total_amount: string;
    amount_paid: string;
    amount_refunded: string;
    paid_at: Date | null;
    cancelled_at: Date | null;
  }>;
  lines: Array<{
    id: string;
    order_id: string;
    product_id: string;
    quantity: number;
    seller_id: string;
    seller_amount: string;
    refunded_amount: string;
    commission_rate: string;
    fulfillment_status: string;
    shipped_at: Date | null;
  }>;
  parcels: Array<{ order_id: string; seller_id: string; seller_amount: string; refunded_at: Date | null }>;
  transactions: Array<{ id: string; order_id: string; type: string; provider: string; provider_reference: string | null; amount: string; status: string; surplus: boolean; created_at: Date }>;
  refunds: Array<{ order_id: string; amount: string; status: string; restock: boolean; payment_transaction_id: string | null }>;
  stock: Map<string, number>;
  entries: Array<{ seller_id: string; type: string; amount: string; order_id: string | null; order_item_id: string | null }>;
  payouts: Array<{ id: string; seller_id: string; status: string; net_amount: string; transfer_id: string | null }>;
}

const PAID_STATUSES = ['paid', 'partially_refunded', 'refunded'];
const isPaid = (order: { payment_status: string }) => PAID_STATUSES.includes(order.payment_status);

describe('money under a randomized storm', () => {
  // An API process as in a deployment with Redis (docker-compose.yml): the jobs run in worker processes.
  const ctx = useStripeApp(WITH_REDIS ? { JOBS_IN_API: 'false' } : {});
  const workers: ServerProcess[] = [];
  /** What the run did, printed with the seed. */
  const notes: string[] = [];
  /** Contract rules broken by answers during the run: the run goes on, and the last audit lists them. */
  const violations: string[] = [];
  let adminBearer: string;
  let sellers: Seller[];
  let products: Stocked[];

  beforeAll(async () => {
    const admin = await createAdmin();
    adminBearer = `Bearer ${(await login(ctx.app, admin.email)).accessToken}`;
  });

  afterAll(async () => {
    for (const worker of [...workers]) await stopWorker(worker, 'SIGKILL');
  });

  const api = () => request(ctx.app);

  async function rows<T extends object>(sql: string, bind: Record<string, unknown> = {}): Promise<T[]> {
    return ctx.db.sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });
  }

  function check(condition: boolean, message: string): void {
    if (!condition) violations.push(message);
  }

  /** Expected answers: a status, or "status CODE" for an error. Anything else (a 500 above all) is a violation. */
  function expectAnswer(answer: Response, expected: Array<number | `${number} ${string}`>, what: string): Response {
    const code = (answer.body as { error?: { code?: string } } | undefined)?.error?.code;
    const ok = expected.some((entry) => (typeof entry === 'number' ? answer.status === entry : entry === `${answer.status} ${code}`));
    check(ok, `${what} answered ${answer.status} ${JSON.stringify(answer.body)}; expected ${expected.join(' or ')}`);
    return answer;
  }

  // ---- the worker process (with Redis) ----

  async function startWorker(name: string): Promise<ServerProcess> {
    // This file's database and Redis namespace (REDIS_PREFIX), the Stripe stand-in, the same commerce settings.
    const worker = spawnWorker({ ...process.env, DATABASE_URL: ctx.db.url, LOG_LEVEL: 'info', LOG_IN_TESTS: '1', SEED_DEMO_DATA: 'false' });
    workers.push(worker);
    const deadline = Date.now() + 60_000;
    while (!/worker ready/.test(worker.output())) {
      if (worker.child.exitCode !== null || Date.now() > deadline) throw failure(`${name} did not start:\n${worker.output().slice(-4000)}`);
      await sleep(100);
    }
    return worker;
  }

  async function stopWorker(worker: ServerProcess, signal: NodeJS.Signals): Promise<void> {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill(signal);
    await worker.exited;
    const index = workers.indexOf(worker);
    if (index >= 0) workers.splice(index, 1);
  }

  /** Kills the worker with SIGKILL while it runs a job, once it has applied some payments, and starts another. */
  async function killWorkerMidRun(worker: ServerProcess, payments: Promise<unknown>): Promise<void> {
    // Loaded here: the app's modules are imported after the Stripe stand-in is configured (see useStripeApp).
    const { getJobs } = await import('../../src/jobs');
    let paid = false;
    const done = () => (paid = true);
    payments.then(done, done);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [events] = await rows<{ applied: number; waiting: number }>(
        `SELECT count(*) FILTER (WHERE status = 'processed')::int AS applied, count(*) FILTER (WHERE status <> 'processed')::int AS waiting FROM webhook_events`,
      );
      const running = sum(Object.values(await getJobs().depths()).map((counts) => counts.active ?? 0));
      if ((events.applied > 0 && running > 0) || (paid && events.waiting === 0) || Date.now() > deadline) {
        notes.push(`worker killed ${running > 0 ? `running ${running} job(s)` : 'between jobs'}, ${events.applied} webhook events applied and ${events.waiting} waiting`);
        break;
      }
      await sleep(5);
    }
    await stopWorker(worker, 'SIGKILL');
    await startWorker('the second worker');
  }

  // ---- waiting for the jobs ----

  /**
   * Waits until no job is queued or running, nothing due waits in the outbox, every webhook is
   * applied and no refund is pending, twice in a row. A refund the provider did not answer is
   * retried as an admin would (its own job sends it again only after its backstop delay).
   */
  async function settle(what: string): Promise<void> {
    const began = Date.now();
    for (let quiet = 0; quiet < 2; ) {
      await ctx.jobsIdle();
      const [left] = await rows<{ outbox: number; refunds: number; webhooks: number }>(
        `SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND available_at <= now())::int AS outbox,
                (SELECT count(*) FROM refunds WHERE status = 'pending')::int AS refunds,
                (SELECT count(*) FROM webhook_events WHERE status <> 'processed')::int AS webhooks`,
      );
      quiet = left.outbox + left.refunds + left.webhooks === 0 ? quiet + 1 : 0;
      if (quiet === 0) {
        if (Date.now() - began > SETTLE_TIMEOUT_MS) throw failure(`${what}: the jobs did not settle in ${SETTLE_TIMEOUT_MS} ms, left: ${JSON.stringify(left)}`);
        await retryUnansweredRefunds();
      }
      await sleep(150);
    }
    notes.push(`settled ${what} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }

  async function retryUnansweredRefunds(): Promise<void> {
    const stuck = await rows<{ order_id: string; amount: string }>(
      `SELECT order_id, amount::text FROM refunds WHERE status = 'pending' AND payment_transaction_id IS NULL AND provider_failures > 0`,
    );
    for (const refund of stuck) await refundOrder(refund.order_id, { amount: refund.amount }, 'an admin retrying a refund Stripe did not answer');
  }

  // ---- the actors' requests ----

  async function adminOrder(orderId: string): Promise<OrderView> {
    const answer = await api().get(`/api/orders/${orderId}`).set('Authorization', adminBearer);
    if (answer.status !== 200) throw failure(`admin GET order ${orderId} answered ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.data as OrderView;
  }

  async function paymentIntentOf(orderId: string): Promise<string> {
    const [order] = await rows<{ payment_intent_id: string }>('SELECT payment_intent_id FROM orders WHERE id = $id', { id: orderId });
    return order.payment_intent_id;
  }

  function stripeIntentsOf(orderId: string): Array<{ id: string; status: string }> {
    return [...ctx.stub.intents.values()].filter((intent) => intent.metadata.orderId === orderId);
  }

  async function webhook(type: string, object: unknown, eventId?: string): Promise<void> {
    expectAnswer(await ctx.deliver(type, object, eventId ? { eventId } : {}), [200], `webhook ${type}`);
  }

  async function createIntent(order: Placed): Promise<string | null> {
    // A 502 recorded nothing: the client retries.
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const answer = await api().post('/api/payments/create-intent').set('Authorization', order.customer.bearer).send({ orderId: order.id });
      expectAnswer(answer, [200, '409 ORDER_NOT_PAYABLE', '502 PAYMENT_PROVIDER_ERROR'], `create-intent for ${order.id}`);
      if (answer.status === 200) return answer.body.data.paymentIntentId as string;
      if (answer.status === 409) return null;
    }
    return null;
  }

  /** The card goes through at Stripe; webhooks (duplicated, stale ones out of order) and perhaps the client's confirm arrive at once. */
  async function payIntent(order: Placed, intentId: string, rng: Faker): Promise<void> {
    const declinedFirst = rng.datatype.boolean(0.15);
    const copies = rng.number.int({ min: 1, max: 3 });
    const sameEvent = rng.datatype.boolean();
    const confirm = rng.datatype.boolean(0.5);
    const staleCancel = rng.datatype.boolean(0.2);
    if (declinedFirst) {
      await webhook('payment_intent.payment_failed', { ...ctx.stub.intent(intentId), status: 'requires_payment_method', last_payment_error: { message: 'Your card was declined.' } });
    }
    // Stripe never lets an intent it canceled be paid.
    if (ctx.stub.intent(intentId).status === 'canceled') return;
    const succeeded = ctx.stub.succeed(intentId);
    const calls: Array<() => Promise<void>> = [];
    for (let copy = 0; copy < copies; copy += 1) calls.push(() => webhook('payment_intent.succeeded', succeeded, sameEvent ? `evt_paid_${intentId}` : undefined));
    if (confirm) {
      calls.push(async () => {
        const answer = await api().post('/api/payments/confirm').set('Authorization', order.customer.bearer).send({ orderId: order.id, paymentIntentId: intentId });
        expectAnswer(answer, [200], `confirm of ${order.id}`);
      });
    }
    if (staleCancel) calls.push(() => webhook('payment_intent.canceled', { ...succeeded, status: 'canceled' }));
    await Promise.all(rng.helpers.shuffle(calls).map((call) => call()));
  }

  /** The payment lands at Stripe the moment the intent is made there, before the app has answered the client or decided anything else. */
  async function payOnArrival(orderId: string, until: Promise<unknown>): Promise<void> {
    let over = false;
    const stop = () => (over = true);
    until.then(stop, stop);
    while (!over) {
      const created = stripeIntentsOf(orderId).find((intent) => intent.status === 'requires_payment_method');
      if (created) {
        ctx.stub.succeed(created.id);
        return;
      }
      await sleep(1);
    }
  }

  async function markPaid(order: Placed): Promise<Response> {
    const answer = await api().post(`/api/admin/orders/${order.id}/mark-paid`).set('Authorization', adminBearer).send({ reference: `BANK-${order.index}` });
    return expectAnswer(answer, [200, '409 ORDER_ALREADY_PAID', '409 ORDER_NOT_PAYABLE'], `mark-paid of ${order.id}`);
  }

  async function cancelOrder(orderId: string, bearer: string, what: string): Promise<Response> {
    const answer = await api().post(`/api/orders/${orderId}/cancel`).set('Authorization', bearer).send({ reason: what });
    return expectAnswer(answer, [200, '409 ORDER_NOT_CANCELLABLE'], what);
  }

  /** An admin's refund; after a 502 the admin sends it again, which completes the refund left pending. */
  async function refundOrder(orderId: string, body: Record<string, unknown>, what: string): Promise<Response> {
    for (let attempt = 1; ; attempt += 1) {
      const answer = await api().post(`/api/admin/orders/${orderId}/refund`).set('Authorization', adminBearer).send(body);
      expectAnswer(answer, [200, '409 REFUND_EXCEEDS_PAYMENT', '409 ORDER_NOT_REFUNDABLE', '502 PAYMENT_PROVIDER_ERROR'], `${what} (${JSON.stringify(body)}) of ${orderId}`);
      if (answer.status !== 502 || attempt === 3) return answer;
    }
  }

  async function setStatus(orderId: string, status: string): Promise<Response> {
    const answer = await api().patch(`/api/admin/orders/${orderId}/status`).set('Authorization', adminBearer).send({ status, trackingNumber: `TRK-${status}` });
    return expectAnswer(
      answer,
      [200, '409 INVALID_STATUS_TRANSITION', '409 REFUND_EXCEEDS_PAYMENT', '409 ORDER_NOT_REFUNDABLE', '502 PAYMENT_PROVIDER_ERROR'],
      `admin status ${status} of ${orderId}`,
    );
  }

  async function fulfil(orderId: string, seller: Seller, itemIds?: string[]): Promise<void> {
    const answer = await api()
      .patch(`/api/seller/orders/${orderId}/items/fulfil`)
      .set('Authorization', seller.bearer)
      .send({ trackingNumber: `TRK-${seller.user.id.slice(0, 8)}`, ...(itemIds ? { itemIds } : {}) });
    expectAnswer(answer, [200, '409 ORDER_NOT_FULFILLABLE'], `fulfil of ${orderId} by ${seller.user.id}`);
  }

  // ---- the phases ----

  async function openMarket(): Promise<SignedIn[]> {
    sellers = await Promise.all(
      Array.from({ length: SELLERS }, async (_, index) => {
        const seller = await signedInSeller(ctx.app);
        const account = index % 2 === 0 ? `acct_storm${index}${SEED.toString(36)}` : null;
        if (account) await seller.profile.update({ payoutDetails: { stripeAccountId: account } });
        return { ...seller, account };
      }),
    );
    const rng = rngFor('catalog');
    const plans = Array.from({ length: PRODUCTS }, (_, index) => ({
      sellerId: sellers[index % SELLERS].user.id,
      price: fromMinor(rng.number.int({ min: 399, max: 4999 })),
      stock: rng.number.int({ min: 3, max: 9 }),
    }));
    products = await Promise.all(
      plans.map(async (plan) => {
        const product = await createProduct({ sellerId: plan.sellerId, price: plan.price, stockQuantity: plan.stock, lowStockThreshold: 1 });
        return { id: product.id, initialStock: plan.stock };
      }),
    );
    return Promise.all(Array.from({ length: CUSTOMERS }, () => signedInUser(ctx.app)));
  }

  /** Fills a cart and checks it out: once, twice at once, twice at once with one Idempotency-Key, or replayed with it. */
  async function shop(customer: SignedIn, index: number): Promise<Placed | null> {
    const rng = rngFor(`shop:${index}`);
    const picks = rng.helpers.arrayElements(products, { min: 1, max: 3 }).map((product) => ({ productId: product.id, quantity: rng.number.int({ min: 1, max: 2 }) }));
    const mode = rng.helpers.arrayElement(['once', 'twice-at-once', 'same-key-at-once', 'key-replayed'] as const);
    const adds = await Promise.all(picks.map((pick) => api().post('/api/cart/items').set('Authorization', customer.bearer).send(pick)));
    for (const add of adds) expectAnswer(add, [201, '409 INSUFFICIENT_STOCK', '400 PRODUCT_UNAVAILABLE'], 'add to cart');
    const place = (withKey: boolean) => {
      const call = api().post('/api/orders').set('Authorization', customer.bearer);
      if (withKey) call.set('Idempotency-Key', `storm-${SEED}-${index}`);
      return call.send({ shippingAddress: ADDRESS });
    };
    let answers: Response[];
    if (mode === 'once') answers = [await place(false)];
    else if (mode === 'twice-at-once') answers = await Promise.all([place(false), place(false)]);
    else if (mode === 'same-key-at-once') answers = await Promise.all([place(true), place(true)]);
    else answers = [await place(true), await place(true)];
    for (const answer of answers) {
      expectAnswer(answer, [201, 200, '400 CART_EMPTY', '409 INSUFFICIENT_STOCK', '409 PRODUCT_UNAVAILABLE'], `checkout (${mode}) of customer ${index}`);
    }
    const placed = answers.filter((answer) => answer.status === 200 || answer.status === 201);
    const ids = new Set(placed.map((answer) => answer.body.data.id as string));
    check(ids.size <= 1, `checkout (${mode}) of customer ${index} made ${ids.size} orders of one cart`);
    if (mode !== 'once' && mode !== 'twice-at-once') {
      check(placed.length === 0 || placed.length === answers.length, `checkout (${mode}) of customer ${index}: one key answered ${answers.map((answer) => answer.status).join(', ')}`);
    }
    const [{ count }] = await rows<{ count: number }>('SELECT count(*)::int AS count FROM orders WHERE user_id = $userId', { userId: customer.user.id });
    check(count === ids.size, `customer ${index} has ${count} orders after checkouts that answered ${ids.size}`);
    const [id] = ids;
    return id ? { index, id, customer } : null;
  }

  /** Pays (or not) one way or another: cards, manual payments, both at once, cancels racing a payment. */
  async function pay(order: Placed): Promise<void> {
    const rng = rngFor(`pay:${order.index}`);
    const plan = rng.helpers.weightedArrayElement([
      { weight: 34, value: 'card' },
      { weight: 12, value: 'card-racing-cancel' },
      { weight: 16, value: 'manual' },
      { weight: 20, value: 'manual-racing-card' },
      { weight: 8, value: 'cancel-unpaid' },
      { weight: 10, value: 'left-unpaid' },
    ] as const);
    switch (plan) {
      case 'card': {
        if (rng.datatype.boolean(0.15)) {
          // Two failures in a row get past the SDK's one retry: some create-intent answers 502.
          ctx.stub.failNext(CREATE_INTENT);
          ctx.stub.failNext(CREATE_INTENT);
        }
        const asked = await Promise.all((rng.datatype.boolean(0.3) ? [1, 2] : [1]).map(() => createIntent(order)));
        const intents = new Set(asked.filter((intent): intent is string => intent !== null));
        check(intents.size <= 1, `create-intent twice at once for ${order.id} gave two intents`);
        const [intent] = intents;
        if (intent) await payIntent(order, intent, rng);
        return;
      }
      case 'card-racing-cancel': {
        const byAdmin = rng.datatype.boolean();
        const intent = await createIntent(order);
        if (!intent) return;
        // The bank confirms while the order is being cancelled.
        const succeeded = ctx.stub.succeed(intent);
        await Promise.all([cancelOrder(order.id, byAdmin ? adminBearer : order.customer.bearer, 'cancel racing a card payment'), webhook('payment_intent.succeeded', succeeded)]);
        return;
      }
      case 'manual': {
        const answers = await Promise.all((rng.datatype.boolean(0.4) ? [1, 2] : [1]).map(() => markPaid(order)));
        check(answers.filter((answer) => answer.status === 200).length === 1, `mark-paid of ${order.id} (at once) did not record exactly one payment`);
        return;
      }
      case 'manual-racing-card': {
        // The admin's click lands some milliseconds into the customer's create-intent.
        const lag = rng.number.int({ min: 10, max: 80 });
        const race = Promise.all([sleep(lag).then(() => markPaid(order)), createIntent(order)]);
        if (rng.datatype.boolean(0.6)) await payOnArrival(order.id, race);
        await race;
        // Whatever the customer's browser still holds gets paid.
        await Promise.all(stripeIntentsOf(order.id).map((intent) => payIntent(order, intent.id, rng)));
        return;
      }
      case 'cancel-unpaid': {
        if (rng.datatype.boolean()) await createIntent(order);
        const answer = await cancelOrder(order.id, order.customer.bearer, 'cancel of an unpaid order');
        check(answer.status === 200, `the cancel of unpaid order ${order.id} was refused`);
        return;
      }
      case 'left-unpaid':
        if (rng.datatype.boolean()) await createIntent(order);
    }
  }

  /** For a paid, confirmed order, up to three of these at once: shipping, cancels, refunds (some with Stripe failing), Stripe's own refunds. */
  async function afterPayment(order: Placed): Promise<void> {
    const current = await adminOrder(order.id);
    if (current.status !== 'confirmed' || !['paid', 'partially_refunded'].includes(current.paymentStatus)) return;
    const rng = rngFor(`after:${order.index}`);
    const total = toMinor(current.totalAmount);
    const card = current.paymentProvider === 'stripe';
    const orderSellers = sellers.filter((seller) => current.items.some((item) => item.sellerId === seller.user.id));
    const part = () => fromMinor(rng.number.int({ min: 1, max: Math.max(1, Math.floor(total * 0.35)) }));
    const kinds = rng.helpers.arrayElements(
      ['ship-all', 'ship-some', 'customer-cancel', 'admin-cancel', 'refund-part', 'refund-flaky', 'refund-rest', 'status-refunded', 'stripe-dashboard-refund', 'charge-refunded'] as const,
      { min: 1, max: 3 },
    );
    const actions: Array<() => Promise<unknown>> = [];
    for (const kind of kinds) {
      switch (kind) {
        case 'ship-all':
          for (const seller of orderSellers) actions.push(() => fulfil(order.id, seller));
          break;
        case 'ship-some': {
          const seller = rng.helpers.arrayElement(orderSellers);
          const mine = current.items.filter((item) => item.sellerId === seller.user.id).map((item) => item.id);
          const some = rng.helpers.arrayElements(mine, { min: 1, max: mine.length });
          actions.push(() => fulfil(order.id, seller, some));
          break;
        }
        case 'customer-cancel':
          actions.push(() => cancelOrder(order.id, order.customer.bearer, 'customer cancel of a paid order'));
          break;
        case 'admin-cancel':
          actions.push(() => cancelOrder(order.id, adminBearer, 'admin cancel of a paid order'));
          break;
        case 'refund-part':
          for (const amount of Array.from({ length: rng.number.int({ min: 1, max: 2 }) }, part)) {
            actions.push(() => refundOrder(order.id, { amount, reason: 'partial refund' }, 'partial refund'));
          }
          break;
        case 'refund-flaky': {
          const amount = part();
          const fault = rng.helpers.arrayElement(['error', 'hang'] as const);
          actions.push(() => {
            // Two faults get past the SDK's one retry: some refund call (this one or one racing it) gets no answer.
            ctx.stub.failNext(CREATE_REFUND, fault);
            ctx.stub.failNext(CREATE_REFUND, fault);
            return refundOrder(order.id, { amount, reason: 'refund while Stripe fails' }, 'refund with Stripe failing');
          });
          break;
        }
        case 'refund-rest': {
          // Restock only when this refund alone settles the order: then it is the one that returns the units not shipped.
          const restock = kinds.length === 1 && rng.datatype.boolean();
          actions.push(() => refundOrder(order.id, { reason: 'full refund', restock }, 'refund of the rest'));
          break;
        }
        case 'status-refunded':
          actions.push(() => setStatus(order.id, 'refunded'));
          break;
        case 'stripe-dashboard-refund': {
          const amount = rng.number.int({ min: 1, max: Math.max(1, Math.floor(total * 0.25)) });
          const deliveries = rng.datatype.boolean() ? [1, 2] : [1];
          if (!card) break;
          actions.push(async () => {
            const intentId = await paymentIntentOf(order.id);
            try {
              ctx.stub.dashboardRefund(intentId, amount);
            } catch {
              // Stripe refused: less than that is left to refund.
            }
            const charge = { id: `ch_dash_${order.index}`, object: 'charge', payment_intent: intentId };
            await Promise.all(deliveries.map(() => webhook('charge.refunded', charge, `evt_dash_${order.id}`)));
          });
          break;
        }
        case 'charge-refunded':
          if (!card) break;
          actions.push(async () => webhook('charge.refunded', { id: `ch_${order.index}`, object: 'charge', payment_intent: await paymentIntentOf(order.id) }));
          break;
      }
    }
    await Promise.all(actions.map((action) => action()));
  }

  /** Ships what an admin ships, and delivers shipped orders (sometimes twice at once). */
  async function deliver(order: Placed): Promise<void> {
    const rng = rngFor(`deliver:${order.index}`);
    const shipFirst = rng.datatype.boolean(0.6);
    const twice = rng.datatype.boolean(0.3);
    let current = await adminOrder(order.id);
    if (current.status === 'confirmed' && shipFirst && (await setStatus(order.id, 'shipped')).status === 200) current = await adminOrder(order.id);
    if (current.status !== 'shipped') return;
    const answers = await Promise.all((twice ? [1, 2] : [1]).map(() => setStatus(order.id, 'delivered')));
    check(answers.filter((answer) => answer.status === 200).length === 1, `delivered (at once) of ${order.id} did not move it exactly once`);
  }

  /** Opens a dispute on one or two delivered card orders; each closes (won or lost) when its close function is called, the event arriving twice. */
  async function openDisputes(): Promise<Array<() => Promise<void>>> {
    const rng = rngFor('disputes');
    const candidates = await rows<{ id: string; payment_intent_id: string; amount_paid: string }>(
      `SELECT id, payment_intent_id, amount_paid::text FROM orders
        WHERE status = 'delivered' AND payment_provider = 'stripe' AND payment_status IN ('paid', 'partially_refunded') ORDER BY order_number`,
    );
    const chosen = rng.helpers.arrayElements(candidates, { min: Math.min(1, candidates.length), max: Math.min(2, candidates.length) });
    return Promise.all(
      chosen.map(async (order, index) => {
        const dispute = { id: `dp_storm_${index}_${order.id}`, object: 'dispute', payment_intent: order.payment_intent_id, amount: toMinor(order.amount_paid), currency: 'usd', reason: 'fraudulent' };
        const outcome = rng.helpers.arrayElement(['won', 'lost'] as const);
        await webhook('charge.dispute.created', { ...dispute, status: 'needs_response' });
        notes.push(`dispute ${index + 1} ${outcome}`);
        return async () => {
          await Promise.all([1, 2].map(() => webhook('charge.dispute.closed', { ...dispute, status: outcome }, `evt_closed_${dispute.id}`)));
        };
      }),
    );
  }

  /** Lines become payable; two payout runs at once race refunds; bank payouts are marked paid twice at once. */
  async function payOut(): Promise<void> {
    await rows(`UPDATE order_items SET delivered_at = delivered_at - interval '30 days' WHERE delivered_at IS NOT NULL`);
    const rng = rngFor('payouts');
    const delivered = await rows<{ id: string; amount_paid: string; amount_refunded: string }>(
      `SELECT id, amount_paid::text, amount_refunded::text FROM orders WHERE status = 'delivered' AND payment_status IN ('paid', 'partially_refunded') ORDER BY order_number`,
    );
    const refundedMeanwhile = rng.helpers.arrayElements(delivered, { min: 0, max: Math.min(3, delivered.length) });
    const run = () => api().post('/api/admin/payouts/run').set('Authorization', adminBearer).send({});
    const [first, second] = await Promise.all([
      run(),
      run(),
      ...refundedMeanwhile.map((order) => {
        const left = toMinor(order.amount_paid) - toMinor(order.amount_refunded);
        return refundOrder(order.id, { amount: fromMinor(Math.max(1, Math.floor(left / 3))), reason: 'refund racing the payouts' }, 'refund racing the payouts');
      }),
    ]);
    for (const answer of [first, second]) expectAnswer(answer, [200], 'payouts run');
    const created = [first, second].flatMap((answer) => (answer.status === 200 ? (answer.body.data.payouts as Array<{ id: string; sellerId: string }>) : []));
    check(new Set(created.map((payout) => payout.sellerId)).size === created.length, `two payout runs at once paid a seller twice: ${JSON.stringify(created)}`);
    // Sellers without Stripe Connect are paid by bank transfer, which an admin records.
    for (const payout of created.filter((row) => !sellers.find((seller) => seller.user.id === row.sellerId)?.account)) {
      const marks = await Promise.all(
        [1, 2].map(() => api().post(`/api/admin/payouts/${payout.id}/mark-paid`).set('Authorization', adminBearer).send({ reference: `WIRE-${payout.id.slice(0, 8)}` })),
      );
      for (const mark of marks) expectAnswer(mark, [200, '409 PAYOUT_ALREADY_PAID'], `mark-paid of payout ${payout.id}`);
      check(marks.filter((mark) => mark.status === 200).length === 1, `mark-paid twice at once of payout ${payout.id} did not pay it exactly once`);
    }
  }

  let startedAt: Date;
  let settled: Snapshot | undefined;

  it('runs a randomized storm of checkouts, payments, cancels, refunds, disputes and payouts', async () => {
    startedAt = new Date(Date.now() - 60_000);
    try {
      if (WITH_REDIS) await startWorker('the first worker');
      else notes.push('no REDIS_URL: every job runs in this process, and the worker kill is skipped');
      const customers = await openMarket();
      const orders = (await Promise.all(customers.map(shop))).filter((order): order is Placed => order !== null);

      const payments = Promise.all(orders.map(pay));
      const outcomes = await Promise.allSettled([payments, WITH_REDIS ? killWorkerMidRun(workers[0], payments) : undefined]);
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
      await settle('the payments');

      await Promise.all(orders.map(afterPayment));
      await settle('shipping, cancels and refunds');

      await Promise.all(orders.map(deliver));
      // One dispute closes before the payouts, the other (its lines held meanwhile) after them.
      const [closeFirst, closeSecond] = await openDisputes();
      await closeFirst?.();
      await settle('delivery and disputes');

      await payOut();
      await closeSecond?.();
      await settle('the payouts');
      settled = await snapshot();
    } catch (error) {
      process.stderr.write(`\nThe randomized money run failed: replay it with MONEY_SEED=${SEED} (${notes.join('; ')})\n`);
      throw error;
    } finally {
      for (const worker of [...workers]) await stopWorker(worker, 'SIGTERM');
    }
    process.stderr.write(`\nmoney run MONEY_SEED=${SEED}: ${notes.join('; ')}\n`);
  }, RUN_TIMEOUT_MS);

  describe('then audits', () => {
    /** The rows once every job has run; the audits judge only a run that completed. */
    function after(): Snapshot {
      if (!settled) throw failure('the run did not complete: nothing to audit');
      return settled;
    }

    it('stock: initial stock = stock now + units held by order lines', () => {
      expectNone('stock conservation', stockProblems(after()));
    });

    it('payments: one per paid order; surplus payments refunded in full, Stripe agreeing', () => {
      expectNone('one payment per paid order', paymentProblems(after()));
    });

    it('refunds: never over what was paid, and what Stripe refunded', () => {
      expectNone('refunds', refundProblems(after()));
    });

    it('ledgers: entries add up to the balances sellers see; payouts paid once, by transfer where Connect', async () => {
      expectNone('ledger sums equal balances', await ledgerProblems(after()));
    });

    it('statistics: the overview equals a recomputation from the rows, and stats:rebuild changes nothing', async () => {
      expectNone('statistics', await statsProblems(after(), startedAt));
    });

    it('answers: every answer during the run was one the contract allows', () => {
      after();
      expectNone('answers as the contract says', violations);
    });
  });

  // ---- the audit ----

  async function snapshot(): Promise<Snapshot> {
    const snap: Snapshot = {
      orders: await rows('SELECT id, status, payment_status, payment_provider, payment_intent_id, total_amount, amount_paid, amount_refunded, paid_at, cancelled_at FROM orders'),
      lines: await rows('SELECT id, order_id, product_id, quantity, seller_id, seller_amount, refunded_amount, commission_rate, fulfillment_status, shipped_at FROM order_items'),
      parcels: await rows('SELECT order_id, seller_id, seller_amount, refunded_at FROM order_shipping'),
      transactions: await rows('SELECT id, order_id, type, provider, provider_reference, amount, status, surplus, created_at FROM transactions'),
      refunds: await rows('SELECT order_id, amount, status, restock, payment_transaction_id FROM refunds'),
      stock: new Map((await rows<{ id: string; stock_quantity: number }>('SELECT id, stock_quantity FROM products')).map((row) => [row.id, row.stock_quantity])),
      entries: await rows('SELECT seller_id, type, amount, order_id, order_item_id FROM seller_ledger_entries'),
      payouts: await rows('SELECT id, seller_id, status, net_amount, transfer_id FROM seller_payouts'),
    };
    const byState = new Map<string, number>();
    for (const order of snap.orders) byState.set(`${order.status}/${order.payment_status}`, (byState.get(`${order.status}/${order.payment_status}`) ?? 0) + 1);
    notes.push(
      `orders ${[...byState].map(([state, count]) => `${state}=${count}`).join(' ')}, ` +
        `${snap.transactions.filter((row) => row.surplus && row.type === 'payment').length} surplus payments, ` +
        `${snap.refunds.length} refunds (${snap.refunds.filter((row) => row.status === 'failed').length} refused by Stripe), ` +
        `${snap.payouts.length} payouts, ${ctx.stub.transfers.size} transfers`,
    );
    return snap;
  }

  /** One audit: what breaks it, none when it holds. */
  function expectNone(audit: string, problems: string[]): void {
    expect({ audit, seed: SEED, problems }).toEqual({ audit, seed: SEED, problems: [] });
  }

  /** What is not on the shelf is in a line that kept it: not cancelled, not restocked by a refund before it shipped. */
  function stockProblems({ orders, lines, refunds, stock }: Snapshot): string[] {
    const refundedOrders = new Set(orders.filter((order) => order.status === 'refunded').map((order) => order.id));
    const restocked = new Set(refunds.filter((refund) => refund.restock && refund.status === 'succeeded' && refundedOrders.has(refund.order_id)).map((refund) => refund.order_id));
    const held = (line: Snapshot['lines'][number]) =>
      line.fulfillment_status === 'cancelled' || (line.fulfillment_status === 'refunded' && line.shipped_at === null && restocked.has(line.order_id)) ? 0 : line.quantity;
    return products.flatMap((product) => {
      const inLines = sum(lines.filter((line) => line.product_id === product.id).map(held));
      const onShelf = stock.get(product.id)!;
      return product.initialStock === onShelf + inLines ? [] : [`product ${product.id}: ${product.initialStock} at first <> ${onShelf} in stock + ${inLines} in order lines`];
    });
  }

  function paymentProblems({ orders, transactions, refunds }: Snapshot): string[] {
    const problems: string[] = [];
    for (const order of orders) {
      const payments = transactions.filter((row) => row.order_id === order.id && row.type === 'payment' && row.status === 'succeeded' && !row.surplus);
      if (isPaid(order)) {
        if (order.amount_paid !== order.total_amount) problems.push(`order ${order.id} (${order.payment_status}): paid ${order.amount_paid} of ${order.total_amount}`);
        if (payments.length !== 1) problems.push(`order ${order.id} (${order.payment_status}) has ${payments.length} succeeded payments that are not surplus`);
      } else if (toMinor(order.amount_paid) !== 0 || payments.length > 0) {
        problems.push(`order ${order.id} (${order.payment_status}) shows ${order.amount_paid} paid and ${payments.length} succeeded payments`);
      }
    }
    const surplus = transactions.filter((row) => row.type === 'payment' && row.surplus);
    for (const payment of surplus) {
      const refund = refunds.find((row) => row.payment_transaction_id === payment.id);
      if (payment.status !== 'succeeded') problems.push(`surplus payment ${payment.id} is ${payment.status}`);
      if (refund?.status !== 'succeeded' || refund.amount !== payment.amount) {
        problems.push(`surplus payment ${payment.id} of ${payment.amount}: its refund is ${refund ? `${refund.status}, ${refund.amount}` : 'missing'}`);
      }
      const atStripe = ctx.stub.refundedTotal(payment.provider_reference!);
      if (atStripe !== toMinor(payment.amount)) problems.push(`surplus payment ${payment.id} of ${payment.amount}: Stripe refunded ${fromMinor(atStripe)}`);
    }
    // Every charge Stripe holds pays an order or is a surplus payment.
    const orderById = new Map(orders.map((order) => [order.id, order]));
    for (const intent of ctx.stub.intents.values()) {
      if (intent.status !== 'succeeded') continue;
      const order = orderById.get(intent.metadata.orderId);
      const paying = order !== undefined && isPaid(order) && order.payment_provider === 'stripe' && order.payment_intent_id === intent.id;
      if (!paying && !surplus.some((payment) => payment.provider_reference === intent.id)) {
        problems.push(`Stripe charged intent ${intent.id} of order ${intent.metadata.orderId}: it pays no order and is no surplus payment`);
      }
    }
    return problems;
  }

  function refundProblems({ orders, transactions }: Snapshot): string[] {
    const problems: string[] = [];
    for (const order of orders) {
      const paid = toMinor(order.amount_paid);
      const refunded = toMinor(order.amount_refunded);
      if (refunded > paid) problems.push(`order ${order.id}: refunded ${order.amount_refunded} > paid ${order.amount_paid}`);
      const recorded = sum(
        transactions.filter((row) => row.order_id === order.id && row.type === 'refund' && row.status === 'succeeded' && !row.surplus).map((row) => toMinor(row.amount)),
      );
      if (recorded !== refunded) problems.push(`order ${order.id}: refund transactions add up to ${fromMinor(recorded)}, amountRefunded is ${order.amount_refunded}`);
      const status = !isPaid(order) ? order.payment_status : refunded === 0 ? 'paid' : refunded === paid ? 'refunded' : 'partially_refunded';
      if (status !== order.payment_status) problems.push(`order ${order.id} is ${order.payment_status} with ${order.amount_refunded} of ${order.amount_paid} refunded`);
      if (isPaid(order) && order.payment_provider === 'stripe') {
        const atStripe = ctx.stub.refundedTotal(order.payment_intent_id!);
        if (atStripe !== refunded) problems.push(`card order ${order.id}: Stripe refunded ${fromMinor(atStripe)}, the order ${order.amount_refunded}`);
      }
    }
    return problems;
  }

  async function ledgerProblems({ orders, lines, parcels, entries, payouts }: Snapshot): Promise<string[]> {
    const problems: string[] = [];
    for (const seller of sellers) {
      const answer = await api().get('/api/seller/ledger').set('Authorization', seller.bearer);
      if (answer.status !== 200) throw failure(`GET /api/seller/ledger answered ${answer.status} ${JSON.stringify(answer.body)}`);
      const balance = answer.body.data.balance as { available: string; pending: string; paidOut: string };
      const journal = sum(entries.filter((entry) => entry.seller_id === seller.user.id).map((entry) => toMinor(entry.amount)));
      if (journal !== toMinor(balance.available) + toMinor(balance.pending)) {
        problems.push(`seller ${seller.user.id}: entries add up to ${fromMinor(journal)}, the balance is ${balance.available} available + ${balance.pending} pending`);
      }
      const mine = payouts.filter((payout) => payout.seller_id === seller.user.id);
      const paid = mine.filter((payout) => payout.status === 'paid');
      const paidOut = sum(paid.map((payout) => toMinor(payout.net_amount)));
      if (paidOut !== toMinor(balance.paidOut)) problems.push(`seller ${seller.user.id}: paidOut ${balance.paidOut}, paid payouts add up to ${fromMinor(paidOut)}`);
      if (paid.length !== mine.length) problems.push(`seller ${seller.user.id}: ${mine.length - paid.length} payouts left unpaid`);
      if (seller.account) {
        const transfers = [...ctx.stub.transfers.values()].filter((transfer) => transfer.destination === seller.account);
        if (sum(transfers.map((transfer) => transfer.amount)) !== paidOut) problems.push(`seller ${seller.user.id}: Stripe transferred ${fromMinor(sum(transfers.map((t) => t.amount)))}, paid out ${fromMinor(paidOut)}`);
        for (const payout of paid) {
          const made = transfers.filter((transfer) => transfer.metadata.payoutId === payout.id);
          if (made.length !== 1 || made[0].id !== payout.transfer_id) problems.push(`payout ${payout.id}: ${made.length} transfers at Stripe, ${payout.transfer_id} recorded`);
        }
      }
    }
    const orderById = new Map(orders.map((order) => [order.id, order]));
    for (const line of lines) {
      const order = orderById.get(line.order_id)!;
      const booked = entries.filter((entry) => entry.order_item_id === line.id);
      const sales = booked.filter((entry) => entry.type === 'sale').length;
      const cancelledBeforePaid = order.cancelled_at !== null && (order.paid_at === null || order.paid_at >= order.cancelled_at);
      if (cancelledBeforePaid && sales > 0) problems.push(`line ${line.id}, cancelled before its order was paid, has a sale entry`);
      if (sales > 1) problems.push(`line ${line.id} has ${sales} sale entries`);
      if (sales === 1) {
        // Sale, commission and refunds (with the commission they give back) telescope to the line's net; disputes come on top.
        const sold = sum(booked.filter((entry) => entry.type !== 'dispute' && entry.type !== 'shipping').map((entry) => toMinor(entry.amount)));
        const net = toMinor(line.seller_amount) - toMinor(line.refunded_amount) - commissionOf(line.seller_amount, line.refunded_amount, line.commission_rate);
        if (sold !== net) problems.push(`line ${line.id}: entries add up to ${fromMinor(sold)}, its net is ${fromMinor(net)}`);
      }
    }
    // A seller's shipping of a paid order is credited once, and taken back once when every line of theirs was refunded.
    const soldLines = new Set(entries.filter((entry) => entry.type === 'sale').map((entry) => entry.order_item_id));
    for (const parcel of parcels) {
      const sellerSold = lines.some((line) => line.order_id === parcel.order_id && line.seller_id === parcel.seller_id && soldLines.has(line.id));
      const booked = entries.filter((entry) => entry.type === 'shipping' && entry.order_id === parcel.order_id && entry.seller_id === parcel.seller_id);
      const credited = booked.filter((entry) => toMinor(entry.amount) > 0);
      const owed = sellerSold && parcel.refunded_at === null ? toMinor(parcel.seller_amount) : 0;
      if (credited.length > 1) problems.push(`parcel of order ${parcel.order_id}, seller ${parcel.seller_id}: credited ${credited.length} times`);
      if (sum(booked.map((entry) => toMinor(entry.amount))) !== owed) {
        problems.push(`parcel of order ${parcel.order_id}, seller ${parcel.seller_id}: shipping entries add up to ${fromMinor(sum(booked.map((entry) => toMinor(entry.amount))))}, owed ${fromMinor(owed)}`);
      }
    }
    return problems;
  }

  /** The overview over whole days (the per-day sales rows) and over the run itself (the orders), recomputed from the rows. */
  async function statsProblems({ orders, lines, transactions }: Snapshot, startedAt: Date): Promise<string[]> {
    const today = new Date(new Date().toISOString().slice(0, 10));
    const hour = 3_600_000;
    const ranges = [
      { from: new Date(today.getTime() - 47 * hour), to: new Date(today.getTime() + 47 * hour) },
      { from: startedAt, to: new Date(Date.now() + 60_000) },
    ];
    const overview = async (range: { from: Date; to: Date }) => {
      const answer = await api().get('/api/admin/stats/overview').query({ from: range.from.toISOString(), to: range.to.toISOString() }).set('Authorization', adminBearer);
      if (answer.status !== 200) throw failure(`GET /api/admin/stats/overview answered ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body.data as { grossSales: string; refunds: string; commission: string; orderCount: number };
    };
    const problems: string[] = [];
    const before = await Promise.all(ranges.map(overview));
    ranges.forEach((range, index) => {
      const inRange = (at: Date | null) => at !== null && at >= range.from && at < range.to;
      const sold = orders.filter((order) => isPaid(order) && inRange(order.paid_at));
      const soldIds = new Set(sold.map((order) => order.id));
      const refunds = transactions.filter((row) => row.type === 'refund' && row.status === 'succeeded' && !row.surplus && inRange(row.created_at));
      const expected = {
        grossSales: fromMinor(sum(sold.map((order) => toMinor(order.amount_paid)))),
        refunds: fromMinor(sum(refunds.map((row) => toMinor(row.amount)))),
        commission: fromMinor(sum(lines.filter((line) => soldIds.has(line.order_id)).map((line) => commissionOf(line.seller_amount, line.refunded_amount, line.commission_rate)))),
        orderCount: sold.length,
      };
      const { grossSales, refunds: refunded, commission, orderCount } = before[index];
      const actual = { grossSales, refunds: refunded, commission, orderCount };
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        problems.push(`overview ${range.from.toISOString()}..${range.to.toISOString()}: ${JSON.stringify(actual)}, recomputed ${JSON.stringify(expected)}`);
      }
    });
    // npm run stats:rebuild. Loaded here: the app's modules are imported after the Stripe stand-in is configured (see useStripeApp).
    const { ledgerService } = await import('../../src/modules/finance/ledger.service');
    await ledgerService.rebuildSalesDays();
    const after = await Promise.all(ranges.map(overview));
    ranges.forEach((range, index) => {
      if (JSON.stringify(after[index]) !== JSON.stringify(before[index])) {
        problems.push(`stats:rebuild changed the overview of ${range.from.toISOString()}..: ${JSON.stringify(before[index])} became ${JSON.stringify(after[index])}`);
      }
    });
    return problems;
  }
});

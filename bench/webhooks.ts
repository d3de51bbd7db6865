import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Customer } from './checkout';

/**
 * The webhook row of `npm run bench`: platform endpoints (an admin's, no seller) written straight
 * into `webhook_endpoints`, subscribed to order.created, pointing at the bench's receiver
 * (bench/webhook-receiver.ts); then, per side, the audit of the run's orders: each has one
 * order.created delivery per endpoint, each delivery its outbox job, and on the API's side every
 * delivery reached the receiver and was recorded as succeeded. The bare server has no workers:
 * its jobs are recorded due in a day (so the API's relay leaves them) and deleted after its audit.
 */

export const WEBHOOK_ENDPOINTS = 3;
/** order.paid too, as an integration would subscribe; no order of the row is paid. */
const EVENTS = ['order.created', 'order.paid'];
/** How long the API's workers get, after its loop, to post the deliveries of its orders. */
export const DELIVERY_WAIT_MS = 60_000;

export interface WebhookRow {
  /** Ids of the row's endpoints. */
  endpointIds: string[];
  /** Base URL of the receiver (GET /count, GET /received). */
  receiverUrl: string;
}

export interface WebhookAudit {
  /** Orders of the run's customers, and those without exactly one order.created delivery per endpoint. */
  orders: number;
  ordersOff: number;
  /** order.created deliveries of the run's orders. */
  deliveries: number;
  /** webhooks.deliver outbox jobs: recorded during the API's run, or the bare server's still unsent. */
  jobs: number;
  /** The API's side: deliveries recorded as succeeded and found at the receiver, and how it went. */
  posted?: {
    succeeded: number;
    received: number;
    /** POSTs the receiver answered for this run (more than `received` when one was posted twice). */
    requests: number;
    /** Deliveries not yet posted when the loop ended, and how long after it the last one was. */
    pendingAtLoopEnd: number;
    afterLoopMs: number;
  };
  ok: boolean;
}

/** Registers the row's endpoints, owned by the given admin, one path of the receiver each, with secrets as the API makes them. */
export async function registerEndpoints(db: Pool, ownerId: string, receiverUrl: string): Promise<WebhookRow> {
  const urls = Array.from({ length: WEBHOOK_ENDPOINTS }, (_, i) => `${receiverUrl}/hooks/${i + 1}`);
  const secrets = urls.map(() => `whsec_${randomBytes(32).toString('base64')}`);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO webhook_endpoints (owner_id, seller_id, url, events, description, secret, active)
     SELECT $1, NULL, e.url, $2::varchar(50)[], 'npm run bench', e.secret, true
       FROM unnest($3::text[], $4::text[]) AS e(url, secret)
     RETURNING id`,
    [ownerId, EVENTS, urls, secrets],
  );
  await db.query('ANALYZE webhook_endpoints');
  return { endpointIds: rows.map((row) => row.id), receiverUrl };
}

/** Every webhooks.deliver job in the outbox, sent or not (the API keeps its sent rows a day). */
export async function deliveryJobCount(db: Pool): Promise<number> {
  const { rows } = await db.query<{ jobs: number }>(`SELECT count(*)::int AS jobs FROM outbox WHERE type = 'webhooks.deliver'`);
  return rows[0].jobs;
}

interface DeliveryCounts {
  orders: number;
  ordersOff: number;
  deliveries: number;
  succeeded: number;
}

/** The order.created deliveries to the row's endpoints of the customers' orders, per order. */
async function deliveriesOf(db: Pool, customers: Customer[], webhooks: WebhookRow): Promise<DeliveryCounts> {
  const { rows } = await db.query<DeliveryCounts>(
    `WITH mine AS (SELECT id FROM orders WHERE user_id = ANY($1::uuid[])),
          per_order AS (
            SELECT (d.payload->>'id')::uuid AS order_id, count(*)::int AS n, count(DISTINCT d.endpoint_id)::int AS endpoints,
                   count(*) FILTER (WHERE d.status = 'succeeded')::int AS succeeded
              FROM webhook_deliveries d
             WHERE d.endpoint_id = ANY($2::uuid[]) AND d.type = 'order.created' AND (d.payload->>'id')::uuid IN (SELECT id FROM mine)
             GROUP BY 1)
     SELECT count(*)::int AS orders,
            count(*) FILTER (WHERE coalesce(p.n, 0) <> $3 OR coalesce(p.endpoints, 0) <> $3)::int AS "ordersOff",
            coalesce(sum(p.n), 0)::int AS deliveries,
            coalesce(sum(p.succeeded), 0)::int AS succeeded
       FROM mine LEFT JOIN per_order p ON p.order_id = mine.id`,
    [customers.map((customer) => customer.id), webhooks.endpointIds, webhooks.endpointIds.length],
  );
  return rows[0];
}

/**
 * Waits (up to DELIVERY_WAIT_MS) until every delivery of the customers' orders is recorded as
 * succeeded, then checks each against what the receiver got. Called when the API's loop ends, so
 * the time it takes is the backlog its workers had left.
 */
export async function awaitDeliveries(db: Pool, customers: Customer[], webhooks: WebhookRow, requestsBefore: number): Promise<NonNullable<WebhookAudit['posted']>> {
  const loopEnded = Date.now();
  const first = await deliveriesOf(db, customers, webhooks);
  let counts = first;
  while (counts.succeeded < counts.deliveries && Date.now() - loopEnded < DELIVERY_WAIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    counts = await deliveriesOf(db, customers, webhooks);
  }
  const afterLoopMs = Date.now() - loopEnded;
  const { rows } = await db.query<{ url: string; event_id: string }>(
    `SELECT e.url, d.event_id
       FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
      WHERE d.endpoint_id = ANY($2::uuid[]) AND d.type = 'order.created'
        AND (d.payload->>'id')::uuid IN (SELECT id FROM orders WHERE user_id = ANY($1::uuid[]))`,
    [customers.map((customer) => customer.id), webhooks.endpointIds],
  );
  const got = (await (await fetch(`${webhooks.receiverUrl}/received`)).json()) as { requests: number; keys: string[] };
  const keys = new Set(got.keys);
  const received = rows.filter((row) => keys.has(`${new URL(row.url).pathname} ${row.event_id}`)).length;
  return {
    succeeded: counts.succeeded,
    received,
    requests: got.requests - requestsBefore,
    pendingAtLoopEnd: first.deliveries - first.succeeded,
    afterLoopMs,
  };
}

/** POSTs the receiver has answered so far. */
export async function receiverRequests(webhooks: WebhookRow): Promise<number> {
  return ((await (await fetch(`${webhooks.receiverUrl}/count`)).json()) as { requests: number }).requests;
}

/**
 * The audit of one side: every order has one order.created delivery per endpoint, and every
 * delivery its job. On the API's side (`posted` given) the jobs are those recorded during the run,
 * and every delivery succeeded and reached the receiver, each once; on the bare server's, the jobs
 * are its deliveries' unsent ones.
 */
export async function webhookAudit(
  db: Pool,
  customers: Customer[],
  webhooks: WebhookRow,
  jobsBefore: number,
  posted: WebhookAudit['posted'],
): Promise<WebhookAudit> {
  const counts = await deliveriesOf(db, customers, webhooks);
  let jobs: number;
  if (posted) jobs = (await deliveryJobCount(db)) - jobsBefore;
  else {
    const { rows } = await db.query<{ jobs: number }>(
      `SELECT count(*)::int AS jobs
         FROM outbox o JOIN webhook_deliveries d ON d.id = (o.payload->>'deliveryId')::uuid
        WHERE o.type = 'webhooks.deliver' AND o.sent_at IS NULL AND d.endpoint_id = ANY($2::uuid[])
          AND (d.payload->>'id')::uuid IN (SELECT id FROM orders WHERE user_id = ANY($1::uuid[]))`,
      [customers.map((customer) => customer.id), webhooks.endpointIds],
    );
    jobs = rows[0].jobs;
  }
  const delivered = !posted || (posted.succeeded === counts.deliveries && posted.received === counts.deliveries && posted.requests === counts.deliveries);
  return {
    orders: counts.orders,
    ordersOff: counts.ordersOff,
    deliveries: counts.deliveries,
    jobs,
    posted,
    ok: counts.ordersOff === 0 && counts.deliveries === counts.orders * webhooks.endpointIds.length && jobs === counts.deliveries && delivered,
  };
}

/**
 * After the row: the bare server's jobs (never due for a day) are deleted, then the endpoints,
 * with their deliveries, so that the rows after it record no event; and the tables vacuumed.
 */
export async function removeEndpoints(db: Pool, webhooks: WebhookRow): Promise<void> {
  await db.query(
    `DELETE FROM outbox o USING webhook_deliveries d
      WHERE o.type = 'webhooks.deliver' AND o.sent_at IS NULL AND d.id = (o.payload->>'deliveryId')::uuid AND d.endpoint_id = ANY($1::uuid[])`,
    [webhooks.endpointIds],
  );
  await db.query('DELETE FROM webhook_endpoints WHERE id = ANY($1::uuid[])', [webhooks.endpointIds]);
  await db.query('VACUUM ANALYZE outbox, webhook_deliveries, webhook_endpoints');
}

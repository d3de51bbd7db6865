import http from 'node:http';
import { Pool, type PoolClient } from 'pg';
import { buildFacetsStatement, buildSearchStatement, type FacetQuery } from '../src/modules/catalog/product.service';
import { LIST_LIMIT as LIMIT, listPage, named, prepared, productBySlug } from './catalog-reads';
import { TAKE_STOCK, takeStockWith } from '../src/modules/catalog/stock.service';
import { MAX_CART_ITEM_QUANTITY, PUBLIC_PRODUCT_STATUSES } from '../src/models';
import { config } from '../src/platform/config';
import { AppError } from '../src/platform/utils/errors';
import { CART_LINES_AND_SOURCES, LOCK_CART, newOrderNumber, PLACE_ORDER, placeOrderBinds, pricingLines, promotionUseSteps, type CartLineRow } from '../src/modules/order/checkout.service';
import { priceCart, type Pricing } from '../src/modules/order/pricing';
import { ADD_TO_USER_CART, checkPromotionFits, linesWithPromotionStatement, SET_PROMO_CODE, type CartItemRow } from '../src/modules/order/cart.service';
import { orderEventStatement } from '../src/modules/webhooks/events';
import { normalizeCode, pricingDefaults, pricingSourcesColumnsBinds, pricingSourcesOf, promotionOf, type PricingSourcesRow, type PromotionRow } from '../src/modules/order/pricing-sources';

/**
 * The floor of the benchmark: node:http and pg running the API's own SQL text for the list page,
 * the search, the product and the facets, with no framework, validation, logging or serialization beyond
 * JSON.stringify (the facets answer is the statement's rows as they come).
 *
 * For the checkout rows it also has a cart and a checkout. The checkout runs the API's own
 * statements (imported, not copied) in the same order: the cart's row lock, the cart read with
 * prices and the pricing sources in one statement (the sellers' shipping rates, the destination's
 * tax rate, the cart's code), priced by the API's pricing function, the order with its lines, parcels, first history
 * row and emptied cart in one statement, the order.created webhook event (a delivery and its
 * outbox job per subscribed endpoint; the job is due in a day, as nothing here posts it), the
 * code's use, then the stock taken by one conditional UPDATE over the sorted variant ids that
 * moves their products' totals in the same statement. Its cart add takes a `variantId` and runs
 * the API's add statement (the line written, the cart's lines read back); its code route runs the
 * API's read of the cart's lines with the code's promotion, the API's check that the code fits the
 * cart, and the API's write. Both answer the rows as they come. The customer is named by
 * `Authorization: Bearer <user id>`: no token check and no session read.
 *
 * Every statement but BEGIN, COMMIT and ROLLBACK runs as a named prepared statement, as the API's do.
 */

const LINES_WITH_PROMOTION = linesWithPromotionStatement({ userId: 'customer' });
// The API takes a code's use in its stock statement: the same statement, the same row locks.
const TAKE_STOCK_AND_LIMITED_USE = takeStockWith(promotionUseSteps({ limited: true }));
const TAKE_STOCK_AND_UNLIMITED_USE = takeStockWith(promotionUseSteps({ limited: false }));

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

/** The API's configuration (the pricing defaults come from it too): the same environment gives the same figures. */
const DEFAULT_COMMISSION_RATE = config.commerce.commissionRate.toFixed(4);
const CURRENCY = config.commerce.currency;
const PAYMENT_TIMEOUT_MINUTES = config.commerce.paymentTimeoutMinutes;
const RETRYABLE = new Set(['40001', '40P01']);
const ATTEMPTS = 8;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const CLEAR_CART = 'DELETE FROM cart_items WHERE cart_id = (SELECT id FROM carts WHERE user_id = $1)';

// The outbox jobs of an event's deliveries, as the API's recordJobs writes them with a delay: due
// in a day, since this server has no workers and the API's relay would otherwise post them during
// this server's run (the bench deletes them after its audit).
const RECORD_DELIVERY_JOBS = `INSERT INTO outbox (type, payload, available_at)
SELECT 'webhooks.deliver', json_build_object('deliveryId', id)::jsonb, now() + make_interval(secs => $2::double precision) FROM unnest($1::uuid[]) AS id`;
const DELIVERY_JOBS_DUE_IN_SECONDS = 86_400;

/** An answer decided inside the transaction: it is rolled back and this is sent. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

function fail(res: http.ServerResponse, error: unknown): void {
  if (error instanceof Refusal) send(res, error.status, { success: false, error: { code: error.code } });
  else send(res, 500, { success: false, error: (error as Error).message });
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>));
      } catch {
        reject(new Refusal(400, 'INVALID_JSON'));
      }
    });
    req.on('error', reject);
  });
}

function customerOf(req: http.IncomingMessage): string {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!match || !UUID.test(match[1])) throw new Refusal(401, 'NO_TOKEN');
  return match[1];
}


function fromMinor(minor: number): string {
  return (minor / 100).toFixed(2);
}


/** BEGIN … COMMIT on one pooled connection, run again on a deadlock or serialization failure (as the API's inTransaction). */
async function inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      const code = (error as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** (attempt - 1) * (0.5 + Math.random())));
    } finally {
      client.release(broken);
    }
  }
}

async function addToCart(req: http.IncomingMessage): Promise<unknown[]> {
  const userId = customerOf(req);
  const body = await readJson(req);
  const variantId = String(body.variantId ?? '');
  const quantity = Number(body.quantity ?? 1);
  if (!UUID.test(variantId) || !Number.isInteger(quantity) || quantity < 1) throw new Refusal(400, 'VALIDATION_ERROR');
  // The API's statement: the line written and the cart's lines read back, answered as they come.
  const { rows } = await pool.query<{ written: boolean }>(prepared(ADD_TO_USER_CART, { userId, variantId, quantity, max: MAX_CART_ITEM_QUANTITY }));
  if (!rows.some((row) => row.written)) throw new Refusal(409, 'INSUFFICIENT_STOCK');
  return rows;
}

async function checkout(req: http.IncomingMessage): Promise<{ id: string; orderNumber: string; totalAmount: string }> {
  const userId = customerOf(req);
  const body = await readJson(req);
  if (!body.shippingAddress || typeof body.shippingAddress !== 'object') throw new Refusal(400, 'VALIDATION_ERROR');
  const shippingAddress = JSON.stringify(body.shippingAddress);
  return inTransaction(async (client) => {
    const { rows: carts } = await client.query<{ promo_code: string | null }>(prepared(LOCK_CART, { userId }));
    const code = carts[0]?.promo_code ?? null;
    const address = body.shippingAddress as { country: string; state?: string | null };
    const destination = { country: String(address.country), state: address.state ?? null };
    // The cart's lines and, on the first, the pricing sources: the API's one statement.
    const { rows: lines } = await client.query<CartLineRow & PricingSourcesRow>(
      prepared(CART_LINES_AND_SOURCES, { ...pricingSourcesColumnsBinds({ ...destination, code, userId }), defaultRate: DEFAULT_COMMISSION_RATE }),
    );
    if (lines.length === 0) throw new Refusal(400, 'CART_EMPTY');
    // The API's checks of what it read, in its order: withdrawn lines, then shortfalls.
    if (
      lines.some(
        (line) => !PUBLIC_PRODUCT_STATUSES.includes(line.status) || line.deleted_at !== null || line.variant_status !== 'active' || line.variant_deleted_at !== null,
      )
    ) {
      throw new Refusal(409, 'PRODUCT_UNAVAILABLE');
    }
    if (lines.some((line) => line.status !== 'active' || line.stock_quantity < line.quantity)) throw new Refusal(409, 'INSUFFICIENT_STOCK');
    // The same pricing as the API: the same arithmetic over the sources the statement read.
    const sources = pricingSourcesOf(lines[0], Boolean(code));
    // A code no promotion has any more refuses the order, as the API's does.
    if (code && !sources.promotion) throw new Refusal(409, 'PROMO_NOT_APPLICABLE');
    let pricing: Pricing;
    try {
      pricing = priceCart({
        lines: pricingLines(lines),
        destination,
        shippingRates: sources.shippingRates,
        taxRate: sources.taxRate,
        promotion: sources.promotion ?? null,
        defaults: pricingDefaults(),
        now: new Date(),
      });
    } catch (error) {
      // SHIPPING_UNAVAILABLE or PROMO_NOT_APPLICABLE, as the API answers them.
      if (error instanceof AppError) throw new Refusal(error.status, error.code);
      throw error;
    }
    const total = fromMinor(pricing.total);
    const bind = {
      userId,
      actorRole: 'customer',
      currency: CURRENCY,
      shippingAddress,
      billingAddress: null,
      notes: null,
      timeout: PAYMENT_TIMEOUT_MINUTES,
      ...placeOrderBinds(lines, pricing),
    };
    // A number taken by another order leaves the statement without a row: draw again (as the API does).
    let order: { id: string; order_number: string } | undefined;
    for (let attempt = 0; attempt < 10 && !order; attempt += 1) {
      const placed = await client.query<{ id: string; order_number: string }>(prepared(PLACE_ORDER, { ...bind, orderNumber: newOrderNumber() }));
      order = placed.rows[0];
    }
    if (!order) throw new Error('Could not draw a free order number in 10 tries');
    // The order.created webhook event, by the API's own statement: a delivery and its outbox job per subscribed endpoint.
    const event = orderEventStatement('order.created', order.id);
    const deliveries = await client.query<{ id: string }>(prepared(event.sql, event.bind));
    if (deliveries.rows.length > 0) await client.query(named(RECORD_DELIVERY_JOBS, [deliveries.rows.map((row) => row.id), DELIVERY_JOBS_DUE_IN_SECONDS]));
    // Lines come sorted by variant id (ORDER BY ci.variant_id), so the arrays are too.
    const stockBind = { ids: bind.variantIds, quantities: bind.quantities, prices: bind.prices };
    const statement = pricing.promotion ? (pricing.promotion.limited ? TAKE_STOCK_AND_LIMITED_USE : TAKE_STOCK_AND_UNLIMITED_USE) : TAKE_STOCK;
    const taken = await client.query<{ alongside_rows: number | null }>(
      prepared(statement, pricing.promotion ? { ...stockBind, promotionId: pricing.promotion.id, orderId: order.id, userId } : stockBind),
    );
    if (taken.rowCount !== lines.length) throw new Refusal(409, 'INSUFFICIENT_STOCK');
    if (pricing.promotion && taken.rows[0]?.alongside_rows === 0) throw new Refusal(409, 'PROMO_NOT_APPLICABLE');
    return { id: order.id, orderNumber: order.order_number, totalAmount: total };
  });
}

async function applyPromo(req: http.IncomingMessage): Promise<unknown[]> {
  const userId = customerOf(req);
  const body = await readJson(req);
  if (typeof body.code !== 'string' || body.code.trim() === '') throw new Refusal(400, 'VALIDATION_ERROR');
  // The API's read (the cart's lines with the code's promotion), its check that the code fits, its write.
  const { rows } = await pool.query<CartItemRow & { cart_id: string; promotion: PromotionRow | null }>(
    prepared(LINES_WITH_PROMOTION, { userId, code: normalizeCode(body.code) }),
  );
  const promotion = rows[0]?.promotion ? promotionOf(rows[0].promotion) : null;
  if (!promotion || !promotion.active) throw new Refusal(404, 'PROMO_NOT_FOUND');
  const lines = rows.filter((row) => row.id !== null);
  try {
    checkPromotionFits(promotion, lines);
  } catch (error) {
    if (error instanceof AppError) throw new Refusal(error.status, error.code);
    throw error;
  }
  await pool.query(prepared(SET_PROMO_CODE, { id: rows[0].cart_id, code: promotion.code }));
  return lines;
}

async function clearCart(req: http.IncomingMessage): Promise<Record<string, never>> {
  await pool.query(named(CLEAR_CART, [customerOf(req)]));
  return {};
}

function answer<T>(res: http.ServerResponse, status: number, work: Promise<T>): undefined {
  work.then(
    (data) => send(res, status, { success: true, data }),
    (error: unknown) => fail(res, error),
  );
  return undefined;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/health') return send(res, 200, { success: true });
  if (url.pathname === '/list') {
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    listPage(pool, page).then(
      (data) => send(res, 200, { success: true, data }),
      (error: Error) => send(res, 500, { success: false, error: error.message }),
    );
    return undefined;
  }
  if (url.pathname === '/search') {
    // The API's statement for this text (its shape depends on the text's last word), first page by relevance; no validation.
    const q = (url.searchParams.get('q') ?? '').trim();
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const statement = buildSearchStatement({ q, page, limit: LIMIT, sortBy: 'relevance' });
    pool.query(prepared(statement.sql, statement.bind)).then(
      ({ rows }) => {
        const total = Number(rows[0]?.total ?? 0);
        send(res, 200, {
          success: true,
          data: { products: rows.filter((row) => row.id !== null), pagination: { page, limit: LIMIT, total, totalPages: Math.ceil(total / LIMIT) }, query: q },
        });
      },
      (error: Error) => send(res, 500, { success: false, error: error.message }),
    );
    return undefined;
  }
  if (url.pathname === '/facets') {
    // The API's statement for these filters (its text depends on which are given); no validation.
    const filters: FacetQuery = {};
    for (const name of ['category', 'search', 'minPrice', 'maxPrice', 'sellerId'] as const) {
      const value = url.searchParams.get(name);
      if (value) filters[name] = value;
    }
    const statement = buildFacetsStatement(filters);
    pool.query(prepared(statement.sql, statement.bind)).then(
      ({ rows }) => send(res, 200, { success: true, data: rows }),
      (error: Error) => send(res, 500, { success: false, error: error.message }),
    );
    return undefined;
  }
  if (url.pathname.startsWith('/product/')) {
    const slug = decodeURIComponent(url.pathname.slice('/product/'.length));
    productBySlug(pool, slug).then(
      (row) => (row ? send(res, 200, { success: true, data: row }) : send(res, 404, { success: false })),
      (error: Error) => send(res, 500, { success: false, error: error.message }),
    );
    return undefined;
  }
  if (url.pathname === '/cart/items' && req.method === 'POST') return answer(res, 201, addToCart(req));
  if (url.pathname === '/cart/promo' && req.method === 'POST') return answer(res, 200, applyPromo(req));
  if (url.pathname === '/cart' && req.method === 'DELETE') return answer(res, 200, clearCart(req));
  if (url.pathname === '/orders' && req.method === 'POST') return answer(res, 201, checkout(req));
  return send(res, 404, { success: false });
});

server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 5099), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.end().then(() => process.exit(0));
});

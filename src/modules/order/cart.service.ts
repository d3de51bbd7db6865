import type { Transaction } from 'sequelize';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { isUuid, MAX_CART_ITEM_QUANTITY } from '../../models';
import { BadRequestError, ConflictError, NotFoundError, ValidationError } from '../../platform/utils/errors';
import { fromMinor, toMinor } from '../../platform/utils/money';
import { hashToken, randomToken } from '../../platform/utils/tokens';
import { insufficientStock } from '../catalog';
import { eligibleLines, type PricingLine, type PricingPromotion } from './pricing';
import { loadPromotion, normalizeCode, priceLines, PROMOTION_OF_CODE, promotionOf, type PromotionRow } from './pricing-sources';

/** A cart belongs to a signed-in user, or to whoever holds a guest cart's token. */
export type CartOwner = { userId: string } | { token: string };

export const GUEST_CART_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Distinct variants in one cart: bounds the size of an order (and of its totals). */
export const MAX_CART_LINES = 100;

/** A line's product and variant (aliases `p`, `v`): the variant's price, stock and image (else the product's first). */
const CART_PRODUCT_COLUMNS = `p.id AS product_id, p.name, p.slug, coalesce(v.images->>0, p.images->>0) AS image, v.price, v.stock_quantity, p.status, p.deleted_at,
       p.seller_id, p.category_id, v.id AS variant_id, v.sku AS variant_sku, v.title AS variant_title, v.options AS variant_options,
       v.status AS variant_status, v.deleted_at AS variant_deleted_at`;

/**
 * Adds `quantity` of a variant to the owner's cart, in one statement: the cart's row is locked
 * (and a user's cart made) by its first step, so adds to one cart, and its checkout, go one at a
 * time. The insert happens only for an active variant of a product on sale with enough stock; the
 * update of a line already there only when the sum stays within the stock and the per-line limit
 * (judged on the line as it is then). The line limit is the database's: a new line moves the
 * cart's `line_count`, whose CHECK refuses the 101st (migration 0019).
 */
function addItemStatement(cart: string): string {
  return `
WITH cart AS (${cart}), variant AS (
  SELECT v.id, v.product_id, v.stock_quantity
    FROM product_variants v JOIN products p ON p.id = v.product_id
   WHERE v.id = $variantId AND v.status = 'active' AND v.deleted_at IS NULL AND p.status = 'active' AND p.deleted_at IS NULL
), added AS (
  INSERT INTO cart_items AS ci (cart_id, product_id, variant_id, quantity)
  SELECT cart.id, variant.product_id, variant.id, $quantity::int FROM cart, variant
   WHERE $quantity::int <= variant.stock_quantity
  ON CONFLICT (cart_id, variant_id) DO UPDATE
     SET quantity = ci.quantity + EXCLUDED.quantity, updated_at = now()
   WHERE ci.quantity + EXCLUDED.quantity <= LEAST($max::int, (SELECT stock_quantity FROM variant))
  RETURNING id, cart_id, product_id, variant_id, quantity, created_at
)
-- The cart as the client sees it, in the same round trip: the statement's own snapshot does not
-- hold the line it wrote, so that line comes from RETURNING (flagged) and replaces its old copy.
-- The cart's line count as its row was locked tells whether that snapshot is still the cart's.
SELECT true AS written, (SELECT promo_code FROM cart) AS cart_promo_code, (SELECT line_count FROM cart) AS cart_line_count,
       a.cart_id, a.id, a.quantity, a.created_at, ${CART_PRODUCT_COLUMNS}
  FROM added a JOIN products p ON p.id = a.product_id JOIN product_variants v ON v.id = a.variant_id
UNION ALL
SELECT false, (SELECT promo_code FROM cart), (SELECT line_count FROM cart), ci.cart_id, ci.id, ci.quantity, ci.created_at, ${CART_PRODUCT_COLUMNS}
  FROM cart_items ci JOIN products p ON p.id = ci.product_id JOIN product_variants v ON v.id = ci.variant_id
 WHERE ci.cart_id = (SELECT id FROM cart)`;
}

/** A user's cart, made on the first add; its row locked either way (ON CONFLICT … DO UPDATE locks the row it finds). */
export const ADD_TO_USER_CART = addItemStatement(`
  INSERT INTO carts AS c (user_id) VALUES ($userId)
  ON CONFLICT (user_id) DO UPDATE SET updated_at = now()
  RETURNING c.id, c.promo_code, c.line_count`);

/** A guest's cart, which an add keeps for another GUEST_CART_TTL_MS. */
const ADD_TO_GUEST_CART = addItemStatement(`
  UPDATE carts SET updated_at = now(), expires_at = now() + make_interval(secs => $ttl)
   WHERE token_hash = $hash AND user_id IS NULL AND expires_at > now()
  RETURNING id, promo_code, line_count`);

/** The CHECK that holds a cart to MAX_CART_LINES lines. */
function isCartFull(error: unknown): boolean {
  const original = (error as { original?: { code?: string; constraint?: string } }).original;
  return original?.code === '23514' && original.constraint === 'carts_line_count_check';
}

/**
 * Moves a guest cart's lines into a user's cart whose row lock the caller holds: quantities add up
 * (capped by stock and the per-product limit); new products take the room left under the line
 * limit, oldest first; products no longer for sale stay behind.
 */
const MERGE_GUEST_CART = `
WITH room AS (
  SELECT greatest($maxLines::int - count(*), 0) AS n FROM cart_items WHERE cart_id = $userCartId
), candidates AS (
  SELECT g.product_id, g.variant_id, LEAST(g.quantity, v.stock_quantity, $max) AS quantity, g.created_at,
         EXISTS (SELECT 1 FROM cart_items u WHERE u.cart_id = $userCartId AND u.variant_id = g.variant_id) AS present
    FROM cart_items g JOIN product_variants v ON v.id = g.variant_id JOIN products p ON p.id = g.product_id
   WHERE g.cart_id = $guestCartId AND p.status = 'active' AND p.deleted_at IS NULL
     AND v.status = 'active' AND v.deleted_at IS NULL AND v.stock_quantity > 0
), chosen AS (
  SELECT product_id, variant_id, quantity FROM candidates WHERE present
  UNION ALL
  (SELECT product_id, variant_id, quantity FROM candidates WHERE NOT present ORDER BY created_at, variant_id LIMIT (SELECT n FROM room))
)
INSERT INTO cart_items AS ci (cart_id, product_id, variant_id, quantity)
SELECT $userCartId, product_id, variant_id, quantity FROM chosen ORDER BY variant_id
ON CONFLICT (cart_id, variant_id) DO UPDATE
   SET quantity = GREATEST(ci.quantity, LEAST(ci.quantity + EXCLUDED.quantity, $max,
         (SELECT stock_quantity FROM product_variants WHERE id = EXCLUDED.variant_id))),
       updated_at = now()`;

/** A cart's lines with their products: one row with a null id for an empty cart. */
const CART_LINES = `SELECT c.id AS cart_id, c.promo_code, ci.id, ci.quantity, ${CART_PRODUCT_COLUMNS}
  FROM carts c
  LEFT JOIN cart_items ci ON ci.cart_id = c.id
  LEFT JOIN products p ON p.id = ci.product_id
  LEFT JOIN product_variants v ON v.id = ci.variant_id`;
const CART_LINES_ORDER = 'ORDER BY ci.created_at, ci.id';
const CART_LINES_WITH_PROMOTION = CART_LINES.replace(/^SELECT /, `SELECT ${PROMOTION_OF_CODE} AS promotion, `);

/** Where a statement over `carts c` finds the owner's cart (a guest's by its token, while it lasts); ownerBind gives its binds. */
function ownerCondition(owner: CartOwner): string {
  return 'token' in owner ? 'WHERE c.token_hash = $hash AND c.user_id IS NULL AND c.expires_at > now()' : 'WHERE c.user_id = $userId';
}

function ownerBind(owner: CartOwner): { hash: string } | { userId: string } {
  return 'token' in owner ? { hash: hashToken(owner.token) } : { userId: owner.userId };
}

export interface CartProductView {
  id: string;
  name: string;
  slug: string;
  image: string | null;
  price: string;
  stockQuantity: number;
  status: string;
  sellerId: string;
}

export interface CartVariantView {
  id: string;
  sku: string;
  title: string;
  options: Record<string, string>;
}

export interface CartItemView {
  id: string;
  /** The product, with the price and stock of the line's variant. */
  product: CartProductView;
  variant: CartVariantView;
  quantity: number;
  unitPrice: string;
  lineTotal: string;
  /** False when the product or variant was withdrawn or has less stock than the quantity: checkout refuses it then. */
  available: boolean;
}

export interface CartView {
  /** Null until something was put in the cart. */
  id: string | null;
  items: CartItemView[];
  /** Units of the available items. */
  itemCount: number;
  /** Sum of the available items' line totals at current prices. */
  subtotal: string;
  /** The promotion code the cart carries; checkout checks it again. */
  promoCode: string | null;
}

export interface QuoteInput {
  shippingAddress: { country: string; state?: string | null; postalCode?: string | null };
  shippingRates?: Record<string, string>;
}

/** What checkout would charge now for the cart's available lines (minor units turned to "0.00" strings). */
export interface QuoteView {
  subtotal: string;
  discountAmount: string;
  shippingAmount: string;
  taxAmount: string;
  totalAmount: string;
  pricesIncludeTax: boolean;
  promoCode: string | null;
  shipping: Array<{ sellerId: string; rateId: string | null; name: string; amount: string; discountAmount: string; taxAmount: string; estimatedDays: number | null }>;
  lines: Array<{ itemId: string; unitPrice: string; quantity: number; lineTotal: string; discountAmount: string; taxAmount: string }>;
}

export interface CartItemRow {
  id: string;
  quantity: number;
  product_id: string;
  name: string;
  slug: string;
  image: string | null;
  price: string;
  stock_quantity: number;
  status: string;
  deleted_at: Date | null;
  seller_id: string;
  category_id: string | null;
  variant_id: string;
  variant_sku: string;
  variant_title: string;
  variant_options: Record<string, string>;
  variant_status: string;
  variant_deleted_at: Date | null;
}

type CartLineRow = CartItemRow & { cart_id: string; promo_code: string | null };

interface ProductRow {
  id: string;
  name: string;
  status: string;
  deleted_at: Date | null;
  stock_quantity: number;
}

const EMPTY_CART: CartView = { id: null, items: [], itemCount: 0, subtotal: '0.00', promoCode: null };

function isForSale(row: { status: string; deleted_at: Date | null }): boolean {
  return (row.status === 'active' || row.status === 'out_of_stock') && row.deleted_at === null;
}

function variantForSale(row: { variant_status: string; variant_deleted_at: Date | null }): boolean {
  return row.variant_status === 'active' && row.variant_deleted_at === null;
}

/** The variant a request to add names: `variantId` (of `productId` when both are given), or the only active variant of `productId`. */
interface AddTarget {
  productId?: string;
  variantId?: string;
}

/** A variant id named alone, before the add that checks it: anything but a UUID names no variant. */
function namedVariant(variantId: string): string {
  if (!isUuid(variantId)) throw new NotFoundError('Variant');
  return variantId;
}

function cartNotFound(): NotFoundError {
  return new NotFoundError('Cart', 'No cart for this cart token (it may have expired or been merged into an account)');
}

function quantityLimit(): ValidationError {
  return new ValidationError([{ field: 'quantity', message: `a cart holds at most ${MAX_CART_ITEM_QUANTITY} of a product` }]);
}


export class CartService {
  /** Creates a guest cart; the token is shown once and stored only as its hash. */
  async createGuestCart(): Promise<{ cartToken: string; cart: CartView }> {
    const token = randomToken(32);
    const [row] = await queryRows<{ id: string }>(
      `INSERT INTO carts (token_hash, expires_at) VALUES ($hash, now() + make_interval(secs => $ttl)) RETURNING id`,
      { hash: hashToken(token), ttl: GUEST_CART_TTL_MS / 1000 },
    );
    return { cartToken: token, cart: { ...EMPTY_CART, id: row.id } };
  }

  /** The cart with current prices and stock. A user without a cart gets an empty one (id null). */
  async get(owner: CartOwner): Promise<CartView> {
    const rows = await this.linesOf(owner);
    if (rows.length === 0) {
      if ('token' in owner) throw cartNotFound();
      return { ...EMPTY_CART };
    }
    return viewOf(rows[0].cart_id, rows.filter((row) => row.id !== null), rows[0].promo_code);
  }

  /**
   * Adds a variant (to the quantity already there), under the cart's row lock: a cart never holds
   * more than MAX_CART_LINES lines, whatever arrives at once. A product named alone must have one
   * active variant (400 VARIANT_REQUIRED otherwise). The product must be on sale (else 404) and the
   * variant have the stock for the new quantity (409 INSUFFICIENT_STOCK). A user's cart is made
   * on first need.
   */
  async addItem(owner: CartOwner, target: AddTarget, quantity: number): Promise<CartView> {
    // A variant named alone is checked by the add itself (and a refusal explained after it): one round trip less.
    const variantId = target.productId === undefined && target.variantId !== undefined ? namedVariant(target.variantId) : await this.variantToAdd(target);
    const bind = { variantId, quantity, max: MAX_CART_ITEM_QUANTITY };
    let rows: Array<CartItemRow & { written: boolean; cart_promo_code: string | null; cart_line_count: number; cart_id: string; created_at: Date }>;
    try {
      rows =
        'token' in owner
          ? await queryRows(ADD_TO_GUEST_CART, { ...bind, hash: hashToken(owner.token), ttl: GUEST_CART_TTL_MS / 1000 })
          : await queryRows(ADD_TO_USER_CART, { ...bind, userId: owner.userId });
    } catch (error) {
      if (isCartFull(error)) throw new BadRequestError('CART_FULL', `A cart holds at most ${MAX_CART_LINES} different items`);
      throw error;
    }
    const written = rows.find((row) => row.written);
    if (!written) {
      // Nothing written: a guest's cart that is gone, or a refusal, explained (the cart's lock is no longer held, so this is a fresh look).
      const cartId = await this.findCartId(owner);
      if (!cartId) throw new Error('A user cart was not created');
      return this.explainRefusedAdd(cartId, variantId, quantity);
    }
    // An add that waited for the cart's lock (a checkout, another add) read the lines as they were
    // before that wait: when the cart's count of lines, read once the lock was granted, says so,
    // the cart is read again.
    const seen = rows.filter((row) => !row.written);
    if (seen.length !== written.cart_line_count) return this.view(written.cart_id);
    const lines = rows
      .filter((row) => row.written || row.id !== written.id)
      .sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id));
    return viewOf(written.cart_id, lines, written.cart_promo_code);
  }

  /** Takes the row lock of the owner's cart, making a user's cart on first need; the cart's id and code. */
  private async lockCart(owner: CartOwner, transaction: Transaction): Promise<{ id: string; promoCode: string | null }> {
    const lock = () =>
      queryRows<{ id: string; promo_code: string | null }>(`SELECT c.id, c.promo_code FROM carts c ${ownerCondition(owner)} FOR UPDATE`, ownerBind(owner), transaction);
    const [row] = await lock();
    if (row) return { id: row.id, promoCode: row.promo_code };
    if ('token' in owner) throw cartNotFound();
    // Two first adds at once: the unique index makes the second insert wait for the first, then do nothing.
    await queryRows('INSERT INTO carts (user_id) VALUES ($userId) ON CONFLICT (user_id) DO NOTHING', { userId: owner.userId }, transaction);
    const [created] = await lock();
    if (!created) throw new Error('A user cart was not created');
    return { id: created.id, promoCode: created.promo_code };
  }

  /** The variant to add: named, or the only active one of the product named. */
  private async variantToAdd(target: AddTarget): Promise<string> {
    if (target.variantId) {
      const [variant] = isUuid(target.variantId)
        ? await queryRows<{ id: string; product_id: string }>(
            `SELECT id, product_id FROM product_variants WHERE id = $variantId AND status = 'active' AND deleted_at IS NULL`,
            { variantId: target.variantId },
          )
        : [];
      if (!variant || (target.productId !== undefined && variant.product_id !== target.productId)) throw new NotFoundError('Variant');
      return variant.id;
    }
    const productId = target.productId ?? '';
    const variants = isUuid(productId)
      ? await queryRows<{ id: string }>(
          `SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id
            WHERE v.product_id = $productId AND v.status = 'active' AND v.deleted_at IS NULL
              AND p.status IN ('active', 'out_of_stock') AND p.deleted_at IS NULL
            LIMIT 2`,
          { productId },
        )
      : [];
    if (variants.length === 0) throw new NotFoundError('Product');
    if (variants.length > 1) throw new BadRequestError('VARIANT_REQUIRED', 'This product has several variants: name one with variantId');
    return variants[0].id;
  }

  /** Why ADD_ITEM wrote nothing, as the error the client gets. */
  private async explainRefusedAdd(cartId: string, variantId: string, quantity: number): Promise<never> {
    const [product] = await queryRows<ProductRow & { variant_status: string; variant_deleted_at: Date | null }>(
      `SELECT p.id, p.name, p.status, p.deleted_at, v.stock_quantity, v.status AS variant_status, v.deleted_at AS variant_deleted_at
         FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id = $variantId`,
      { variantId },
    );
    if (!product || !variantForSale(product)) throw new NotFoundError('Variant');
    if (!isForSale(product)) throw new NotFoundError('Product');
    const [existing] = await queryRows<{ quantity: number }>(
      'SELECT quantity FROM cart_items WHERE cart_id = $cartId AND variant_id = $variantId',
      { cartId, variantId },
    );
    const wanted = (existing?.quantity ?? 0) + quantity;
    if (product.status !== 'active' || wanted > product.stock_quantity) {
      throw insufficientStock([
        { productId: product.id, variantId, name: product.name, requested: wanted, available: product.status === 'active' ? product.stock_quantity : 0 },
      ]);
    }
    if (wanted > MAX_CART_ITEM_QUANTITY) throw quantityLimit();
    // The cart or the variant changed between the two statements (a concurrent add or removal): the client may simply try again.
    throw new ConflictError('CART_CHANGED', 'The cart changed meanwhile; please try again');
  }

  /** Sets a line's quantity; 0 removes it. The product must still be on sale and in stock for it. */
  async updateItem(owner: CartOwner, itemId: string, quantity: number): Promise<CartView> {
    const cartId = await inTransaction(async (transaction) => {
      const id = await this.findCartId(owner, { transaction });
      const [item] = id && isUuid(itemId)
        ? await queryRows<{ variant_id: string }>('SELECT variant_id FROM cart_items WHERE id = $itemId AND cart_id = $cartId FOR UPDATE', { itemId, cartId: id }, transaction)
        : [];
      if (!id || !item) throw new NotFoundError('CartItem');
      if (quantity === 0) {
        await queryRows('DELETE FROM cart_items WHERE id = $itemId', { itemId }, transaction);
      } else {
        const [line] = await queryRows<ProductRow & { variant_id: string; variant_status: string; variant_deleted_at: Date | null }>(
          `SELECT p.id, p.name, p.status, p.deleted_at, v.id AS variant_id, v.stock_quantity, v.status AS variant_status, v.deleted_at AS variant_deleted_at
             FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id = $variantId`,
          { variantId: item.variant_id },
          transaction,
        );
        if (!line || !isForSale(line) || !variantForSale(line)) {
          throw new BadRequestError('PRODUCT_UNAVAILABLE', 'This product is no longer for sale; remove it from the cart');
        }
        if (line.status !== 'active' || line.stock_quantity < quantity) {
          throw insufficientStock([
            { productId: line.id, variantId: line.variant_id, name: line.name, requested: quantity, available: line.status === 'active' ? line.stock_quantity : 0 },
          ]);
        }
        await queryRows('UPDATE cart_items SET quantity = $quantity, updated_at = now() WHERE id = $itemId', { itemId, quantity }, transaction);
      }
      await this.touch(id, transaction);
      return id;
    });
    return this.view(cartId);
  }

  async removeItem(owner: CartOwner, itemId: string): Promise<CartView> {
    return this.updateItem(owner, itemId, 0);
  }

  /** Empties the cart (the cart itself, and a guest's token, stay). */
  async clear(owner: CartOwner): Promise<CartView> {
    const cartId = await this.findCartId(owner);
    if (!cartId) return { ...EMPTY_CART };
    await queryRows('DELETE FROM cart_items WHERE cart_id = $cartId', { cartId });
    return this.view(cartId);
  }

  /**
   * Moves a guest cart into the user's cart at sign-in, under both carts' row locks: quantities
   * add up, capped by stock and by the per-product limit; new products fill the room left under
   * the line limit (the rest, and products no longer for sale, stay behind); the guest cart and
   * its token are gone afterwards. An unknown or expired token changes nothing (sign-in must not fail on it).
   */
  async mergeGuestCart(token: string | undefined, userId: string): Promise<void> {
    if (!token) return;
    await inTransaction(async (transaction) => {
      const [guest] = await queryRows<{ id: string }>(
        'SELECT id FROM carts WHERE token_hash = $hash AND user_id IS NULL AND expires_at > now() FOR UPDATE',
        { hash: hashToken(token) },
        transaction,
      );
      if (!guest) return;
      const { id: userCartId } = await this.lockCart({ userId }, transaction);
      await queryRows(MERGE_GUEST_CART, { userCartId, guestCartId: guest.id, max: MAX_CART_ITEM_QUANTITY, maxLines: MAX_CART_LINES }, transaction);
      // The guest's code comes along unless the account's cart has one.
      await queryRows(
        'UPDATE carts SET promo_code = coalesce(promo_code, (SELECT promo_code FROM carts WHERE id = $guestCartId)) WHERE id = $userCartId',
        { userCartId, guestCartId: guest.id },
        transaction,
      );
      await queryRows('DELETE FROM carts WHERE id = $id', { id: guest.id }, transaction);
    }, { name: 'merge guest cart' });
  }

  /** The owner's cart id (null: a user who has none yet; a user's cart is made by the first add). */
  private async findCartId(owner: CartOwner, options: { transaction?: Transaction } = {}): Promise<string | null> {
    const [row] = await queryRows<{ id: string }>(`SELECT c.id FROM carts c ${ownerCondition(owner)}`, ownerBind(owner), options.transaction);
    if (!row && 'token' in owner) throw cartNotFound();
    return row?.id ?? null;
  }

  /** A guest cart in use lives on for another 30 days. */
  private async touch(cartId: string, transaction?: Transaction): Promise<void> {
    await queryRows(
      `UPDATE carts SET updated_at = now(), expires_at = CASE WHEN user_id IS NULL THEN now() + make_interval(secs => $ttl) ELSE expires_at END WHERE id = $cartId`,
      { cartId, ttl: GUEST_CART_TTL_MS / 1000 },
      transaction,
    );
  }

  private async view(cartId: string): Promise<CartView> {
    const rows = await this.lines(cartId);
    return viewOf(cartId, rows.filter((row) => row.id !== null), rows[0]?.promo_code ?? null);
  }

  /** The cart's lines with their products (one row with a null id for an empty cart), and its id and code on every row. */
  private async lines(cartId: string, transaction?: Transaction): Promise<CartLineRow[]> {
    return queryRows<CartLineRow>(`${CART_LINES} WHERE c.id = $cartId ${CART_LINES_ORDER}`, { cartId }, transaction);
  }

  /** The lines of the owner's cart, as `lines` gives them; none when the owner has no cart. */
  private async linesOf(owner: CartOwner): Promise<CartLineRow[]> {
    return queryRows<CartLineRow>(`${CART_LINES} ${ownerCondition(owner)} ${CART_LINES_ORDER}`, ownerBind(owner));
  }

  /**
   * The lines of the owner's cart as `linesOf` gives them, each row with the promotion of `code`
   * (PROMOTION_OF_CODE, the owner's uses of it counted), in one statement.
   */
  private async linesWithPromotionOf(owner: CartOwner, code: string): Promise<Array<CartLineRow & { promotion: PromotionRow | null }>> {
    return queryRows(linesWithPromotionStatement(owner), { userId: null, ...ownerBind(owner), code: normalizeCode(code) });
  }

  /**
   * Puts a promotion code on the cart (one code: it replaces the one there), once the code fits
   * the cart now: 404 PROMO_NOT_FOUND for a code no active promotion has, 409 PROMO_NOT_APPLICABLE
   * with the reason otherwise. No lock: checkout checks the code again against what the cart then
   * holds, so a cart that changes meanwhile is judged there.
   */
  async applyPromo(owner: CartOwner, code: string): Promise<CartView> {
    // The cart's lines found by their owner, and the code's promotion, in one statement.
    const found = await this.linesWithPromotionOf(owner, code);
    let rows: CartLineRow[];
    let promotion: PricingPromotion | null;
    if (found.length > 0) {
      rows = found;
      promotion = found[0].promotion ? promotionOf(found[0].promotion) : null;
    } else {
      if ('token' in owner) throw cartNotFound();
      rows = await this.lines((await inTransaction((transaction) => this.lockCart(owner, transaction), { name: 'cart create' })).id);
      promotion = await loadPromotion(code, owner.userId);
    }
    if (!promotion || !promotion.active) throw new NotFoundError('Promo', 'No promotion has this code');
    const cartId = rows[0].cart_id;
    const lines = rows.filter((row) => row.id !== null);
    checkPromotionFits(promotion, lines);
    await queryRows(SET_PROMO_CODE, { id: cartId, code: promotion.code });
    return viewOf(cartId, lines, promotion.code);
  }

  /** Takes the code off the cart (nothing happens when there is none). */
  async removePromo(owner: CartOwner): Promise<CartView> {
    const cartId = await this.findCartId(owner);
    if (!cartId) return { ...EMPTY_CART };
    await queryRows('UPDATE carts SET promo_code = NULL, updated_at = now() WHERE id = $cartId', { cartId });
    return this.view(cartId);
  }

  /**
   * The totals checkout would charge now for the cart's available lines, shipped to this
   * destination with these rates and the cart's code: the same sources and pricing function as
   * checkout. Nothing is written.
   */
  async quote(owner: CartOwner, input: QuoteInput): Promise<QuoteView> {
    const rows = await this.linesOf(owner);
    if (rows.length === 0 && 'token' in owner) throw cartNotFound();
    const code = rows[0]?.promo_code ?? null;
    const available = rows.filter((row) => row.id !== null).filter(isAvailable);
    if (available.length === 0) throw new BadRequestError('CART_EMPTY', 'The cart has nothing that can be bought');
    const pricing = await priceLines({
      lines: available.map(pricingLineOf),
      destination: input.shippingAddress,
      chosenRates: input.shippingRates,
      code,
      userId: 'userId' in owner ? owner.userId : null,
    });
    return {
      subtotal: fromMinor(pricing.subtotal),
      discountAmount: fromMinor(pricing.discount),
      shippingAmount: fromMinor(pricing.shipping),
      taxAmount: fromMinor(pricing.tax),
      totalAmount: fromMinor(pricing.total),
      pricesIncludeTax: pricing.pricesIncludeTax,
      promoCode: pricing.promotion?.code ?? null,
      shipping: pricing.shippingLines.map((parcel) => ({
        sellerId: parcel.sellerId,
        rateId: parcel.rateId,
        name: parcel.name,
        amount: fromMinor(parcel.amount),
        discountAmount: fromMinor(parcel.discount),
        taxAmount: fromMinor(parcel.tax),
        estimatedDays: parcel.estimatedDays,
      })),
      lines: pricing.lines.map((line) => ({
        itemId: line.itemId,
        unitPrice: fromMinor(line.unitPrice),
        quantity: line.quantity,
        lineTotal: fromMinor(line.lineTotal),
        discountAmount: fromMinor(line.discount),
        taxAmount: fromMinor(line.tax),
      })),
    };
  }
}

/** A cart line as the pricing function takes it. */
function pricingLineOf(row: CartItemRow): PricingLine {
  return { itemId: row.id, sellerId: row.seller_id, productId: row.product_id, categoryId: row.category_id, unitPrice: toMinor(row.price), quantity: row.quantity };
}

/**
 * The code route's read: the owner's cart lines (`linesOf`'s) with the promotion of `$code` on each
 * row (PROMOTION_OF_CODE, the user's uses of it counted), in one statement.
 */
export function linesWithPromotionStatement(owner: CartOwner): string {
  return `${CART_LINES_WITH_PROMOTION} ${ownerCondition(owner)} ${CART_LINES_ORDER}`;
}

/** The code route's write, once the code fits the cart. */
export const SET_PROMO_CODE = 'UPDATE carts SET promo_code = $code, updated_at = now() WHERE id = $id';

/** Throws 409 PROMO_NOT_APPLICABLE (with the reason) unless the promotion applies to the cart's available lines now. */
export function checkPromotionFits(promotion: PricingPromotion, lines: CartItemRow[]): void {
  eligibleLines(promotion, lines.filter(isAvailable).map(pricingLineOf), new Date());
}

/** A line checkout would take: product and variant for sale, in stock for the quantity. */
function isAvailable(row: CartItemRow): boolean {
  return isForSale(row) && variantForSale(row) && row.status === 'active' && row.stock_quantity >= row.quantity;
}

/** The cart at current prices: lines whose product is withdrawn or short of stock are shown, flagged, and left out of the totals. */
function viewOf(cartId: string, rows: CartItemRow[], promoCode: string | null): CartView {
  let itemCount = 0;
  let subtotal = 0;
  const items = rows.map((row): CartItemView => {
    const lineTotal = toMinor(row.price) * row.quantity;
    const available = isAvailable(row);
    if (available) {
      itemCount += row.quantity;
      subtotal += lineTotal;
    }
    return {
      id: row.id,
      product: {
        id: row.product_id,
        name: row.name,
        slug: row.slug,
        image: row.image,
        price: row.price,
        stockQuantity: row.stock_quantity,
        status: row.deleted_at ? 'deleted' : row.status,
        sellerId: row.seller_id,
      },
      variant: { id: row.variant_id, sku: row.variant_sku, title: row.variant_title, options: row.variant_options },
      quantity: row.quantity,
      unitPrice: row.price,
      lineTotal: fromMinor(lineTotal),
      available,
    };
  });
  return { id: cartId, items, itemCount, subtotal: fromMinor(subtotal), promoCode };
}

export const cartService = new CartService();

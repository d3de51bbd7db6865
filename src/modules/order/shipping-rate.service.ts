import type { ShippingRateAttributes } from '../../models';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { BadRequestError, NotFoundError } from '../../platform/utils/errors';

/** At most this many shipping rates per seller. */
export const MAX_SHIPPING_RATES = 50;

export interface ShippingRateInput {
  name: string;
  /** ISO 3166-1 alpha-2 codes, or ['*'] for everywhere. */
  countries: string[];
  /** Money: decimal strings. */
  price: string;
  freeOver?: string | null;
  estimatedDays?: number | null;
}

export type ShippingRateChanges = Partial<ShippingRateInput>;

/** A shipping rate as its seller sees it: the model's columns but the seller's id. */
export type ShippingRateView = Omit<ShippingRateAttributes, 'sellerId'>;

const COLUMNS = `id, name, countries, price, free_over AS "freeOver", estimated_days AS "estimatedDays", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Input field → column, for the fields a change may set. */
const FIELD_COLUMNS: Record<keyof ShippingRateInput, string> = {
  name: 'name',
  countries: 'countries',
  price: 'price',
  freeOver: 'free_over',
  estimatedDays: 'estimated_days',
};

function fieldsOf(values: ShippingRateChanges): Array<keyof ShippingRateInput> {
  return (Object.keys(FIELD_COLUMNS) as Array<keyof ShippingRateInput>).filter((field) => values[field] !== undefined);
}

/** A seller's own shipping rates; another seller's rate is 404, as if it did not exist. */
export class ShippingRateService {
  /** The seller's rates, cheapest first. */
  async list(sellerId: string): Promise<ShippingRateView[]> {
    return queryRows<ShippingRateView>(`SELECT ${COLUMNS} FROM shipping_rates WHERE seller_id = $sellerId ORDER BY price, created_at, id`, { sellerId });
  }

  /**
   * Adds a rate. The count is taken under a lock of the seller's users row, so concurrent creates
   * cannot pass MAX_SHIPPING_RATES together. FOR NO KEY UPDATE is enough to serialise them and,
   * unlike FOR UPDATE, leaves alone the inserts elsewhere that only reference the seller.
   */
  async create(sellerId: string, input: ShippingRateInput): Promise<ShippingRateView> {
    return inTransaction(async (transaction) => {
      await queryRows('SELECT id FROM users WHERE id = $sellerId FOR NO KEY UPDATE', { sellerId }, transaction);
      const [{ count }] = await queryRows<{ count: number }>('SELECT count(*)::int AS count FROM shipping_rates WHERE seller_id = $sellerId', { sellerId }, transaction);
      if (count >= MAX_SHIPPING_RATES) throw new BadRequestError('SHIPPING_RATE_LIMIT', `A seller keeps at most ${MAX_SHIPPING_RATES} shipping rates`);
      const fields = fieldsOf(input);
      const [row] = await queryRows<ShippingRateView>(
        `INSERT INTO shipping_rates (seller_id, ${fields.map((field) => FIELD_COLUMNS[field]).join(', ')})
         VALUES ($sellerId, ${fields.map((field) => `$${field}`).join(', ')})
         RETURNING ${COLUMNS}`,
        { sellerId, ...Object.fromEntries(fields.map((field) => [field, input[field]])) },
        transaction,
      );
      return row;
    }, { name: 'add shipping rate' });
  }

  async update(sellerId: string, rateId: string, changes: ShippingRateChanges): Promise<ShippingRateView> {
    const fields = fieldsOf(changes);
    const sets = [...fields.map((field) => `${FIELD_COLUMNS[field]} = $${field}`), 'updated_at = now()'];
    const [row] = await queryRows<ShippingRateView>(
      `UPDATE shipping_rates SET ${sets.join(', ')} WHERE id = $rateId AND seller_id = $sellerId RETURNING ${COLUMNS}`,
      { sellerId, rateId, ...Object.fromEntries(fields.map((field) => [field, changes[field]])) },
    );
    if (!row) throw new NotFoundError('ShippingRate');
    return row;
  }

  /** Deletes the rate; orders that used it keep their copy (order_shipping.rate_id becomes null). */
  async remove(sellerId: string, rateId: string): Promise<void> {
    const removed = await queryRows('DELETE FROM shipping_rates WHERE id = $rateId AND seller_id = $sellerId RETURNING id', { sellerId, rateId });
    if (removed.length === 0) throw new NotFoundError('ShippingRate');
  }
}

export const shippingRateService = new ShippingRateService();

import type { Transaction } from 'sequelize';
import type { Address } from '../../models';
import { queryRows } from '../../platform/db/query';
import { inTransaction } from '../../platform/db/transaction';
import { BadRequestError, NotFoundError } from '../../platform/utils/errors';

/** At most this many addresses per user. */
export const MAX_ADDRESSES = 20;

export interface AddressInput extends Address {
  label?: string | null;
  isDefaultShipping?: boolean;
  isDefaultBilling?: boolean;
}

export type AddressChanges = Partial<AddressInput>;

export interface AddressView extends Required<Address> {
  id: string;
  label: string | null;
  isDefaultShipping: boolean;
  isDefaultBilling: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, label, first_name AS "firstName", last_name AS "lastName", address1, address2, city, state, postal_code AS "postalCode",
  country, phone, is_default_shipping AS "isDefaultShipping", is_default_billing AS "isDefaultBilling", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Input field → column, for the fields a change may set. */
const FIELD_COLUMNS: Record<keyof AddressInput, string> = {
  label: 'label',
  firstName: 'first_name',
  lastName: 'last_name',
  address1: 'address1',
  address2: 'address2',
  city: 'city',
  state: 'state',
  postalCode: 'postal_code',
  country: 'country',
  phone: 'phone',
  isDefaultShipping: 'is_default_shipping',
  isDefaultBilling: 'is_default_billing',
};

/** Empty optional text is stored as null. */
function valueOf(value: unknown): unknown {
  return value === '' ? null : value;
}

/**
 * A customer's address book. Every change runs under the user's row lock, so the count limit and
 * the one default of each kind hold also for requests at once; another user's address is 404.
 */
export class AddressService {
  async list(userId: string): Promise<AddressView[]> {
    return queryRows<AddressView>(`SELECT ${COLUMNS} FROM user_addresses WHERE user_id = $userId ORDER BY created_at, id`, { userId });
  }

  /** Adds an address; the first one becomes the default for shipping and billing unless said otherwise. */
  async create(userId: string, input: AddressInput): Promise<AddressView> {
    return inTransaction(async (transaction) => {
      await this.lockBook(userId, transaction);
      const [{ count }] = await queryRows<{ count: number }>('SELECT count(*)::int AS count FROM user_addresses WHERE user_id = $userId', { userId }, transaction);
      if (count >= MAX_ADDRESSES) throw new BadRequestError('ADDRESS_BOOK_FULL', `An address book holds at most ${MAX_ADDRESSES} addresses`);
      const first = count === 0;
      const values: AddressInput = { ...input, isDefaultShipping: input.isDefaultShipping ?? first, isDefaultBilling: input.isDefaultBilling ?? first };
      await this.clearDefaults(userId, values, null, transaction);
      const fields = (Object.keys(FIELD_COLUMNS) as Array<keyof AddressInput>).filter((field) => values[field] !== undefined);
      const [row] = await queryRows<AddressView>(
        `INSERT INTO user_addresses (user_id, ${fields.map((field) => FIELD_COLUMNS[field]).join(', ')})
         VALUES ($userId, ${fields.map((field) => `$${field}`).join(', ')})
         RETURNING ${COLUMNS}`,
        { userId, ...Object.fromEntries(fields.map((field) => [field, valueOf(values[field])])) },
        transaction,
      );
      return row;
    }, { name: 'add address' });
  }

  async update(userId: string, addressId: string, changes: AddressChanges): Promise<AddressView> {
    return inTransaction(async (transaction) => {
      await this.lockBook(userId, transaction);
      await this.clearDefaults(userId, changes, addressId, transaction);
      const fields = (Object.keys(FIELD_COLUMNS) as Array<keyof AddressInput>).filter((field) => changes[field] !== undefined);
      const sets = [...fields.map((field) => `${FIELD_COLUMNS[field]} = $${field}`), 'updated_at = now()'];
      const [row] = await queryRows<AddressView>(
        `UPDATE user_addresses SET ${sets.join(', ')} WHERE id = $addressId AND user_id = $userId RETURNING ${COLUMNS}`,
        { userId, addressId, ...Object.fromEntries(fields.map((field) => [field, valueOf(changes[field])])) },
        transaction,
      );
      if (!row) throw new NotFoundError('Address');
      return row;
    }, { name: 'change address' });
  }

  async remove(userId: string, addressId: string): Promise<void> {
    const removed = await queryRows('DELETE FROM user_addresses WHERE id = $addressId AND user_id = $userId RETURNING id', { userId, addressId });
    if (removed.length === 0) throw new NotFoundError('Address');
  }

  /** The address as an order keeps it (a copy: later edits of the book do not reach the order). */
  async copyFor(userId: string, addressId: string, transaction?: Transaction): Promise<Address> {
    const [row] = await queryRows<AddressView>(`SELECT ${COLUMNS} FROM user_addresses WHERE id = $addressId AND user_id = $userId`, { userId, addressId }, transaction);
    if (!row) throw new NotFoundError('Address');
    const { firstName, lastName, address1, address2, city, state, postalCode, country, phone } = row;
    return { firstName, lastName, address1, address2, city, state, postalCode, country, phone };
  }

  /** The user's row, locked against other changes of the book (not against reads, nor rows that only reference the user). */
  private async lockBook(userId: string, transaction: Transaction): Promise<void> {
    await queryRows('SELECT id FROM users WHERE id = $userId FOR NO KEY UPDATE', { userId }, transaction);
  }

  /** A new default of a kind takes the place of the previous one. */
  private async clearDefaults(userId: string, values: AddressChanges, except: string | null, transaction: Transaction): Promise<void> {
    for (const [flag, column] of [
      ['isDefaultShipping', 'is_default_shipping'],
      ['isDefaultBilling', 'is_default_billing'],
    ] as const) {
      if (values[flag] !== true) continue;
      await queryRows(
        `UPDATE user_addresses SET ${column} = false, updated_at = now() WHERE user_id = $userId AND ${column} AND id IS DISTINCT FROM $except::uuid`,
        { userId, except },
        transaction,
      );
    }
  }
}

export const addressService = new AddressService();

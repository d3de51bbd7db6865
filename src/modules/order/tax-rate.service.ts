import type { TaxRateAttributes } from '../../models';
import { queryRows } from '../../platform/db/query';
import { ConflictError, NotFoundError } from '../../platform/utils/errors';

export interface TaxRateInput {
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  /** Upper case; null: the whole country. */
  state?: string | null;
  /** 0..1 with four decimals, as a decimal string ("0.0825"). */
  rate: string;
  name: string;
  appliesToShipping?: boolean;
}

export type TaxRateChanges = Partial<TaxRateInput>;

/** A tax rate as the API shows it: every column of the model. */
export type TaxRateView = TaxRateAttributes;

const COLUMNS = `id, country, state, rate, name, applies_to_shipping AS "appliesToShipping", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Input field → column, for the fields a change may set. */
const FIELD_COLUMNS: Record<keyof TaxRateInput, string> = {
  country: 'country',
  state: 'state',
  rate: 'rate',
  name: 'name',
  appliesToShipping: 'applies_to_shipping',
};

function fieldsOf(values: TaxRateChanges): Array<keyof TaxRateInput> {
  return (Object.keys(FIELD_COLUMNS) as Array<keyof TaxRateInput>).filter((field) => values[field] !== undefined);
}

/** One rate per country and state is held by the unique index (NULLS NOT DISTINCT): a second one is 409 TAX_RATE_EXISTS. */
function taxRateWriteError(error: unknown): unknown {
  const original = (error as { original?: { code?: string; constraint?: string } } | undefined)?.original;
  if (original?.code === '23505' && original.constraint === 'tax_rates_country_state_key') {
    return new ConflictError('TAX_RATE_EXISTS', 'There is already a tax rate for this country and state');
  }
  return error;
}

/** The platform's tax rates by destination: a country, or a state of it. */
export class TaxRateService {
  /** Every rate, by country, each country's country-wide rate before its states. */
  async list(): Promise<TaxRateView[]> {
    return queryRows<TaxRateView>(`SELECT ${COLUMNS} FROM tax_rates ORDER BY country, state NULLS FIRST`, {});
  }

  async create(input: TaxRateInput): Promise<TaxRateView> {
    const fields = fieldsOf(input);
    const [row] = await queryRows<TaxRateView>(
      `INSERT INTO tax_rates (${fields.map((field) => FIELD_COLUMNS[field]).join(', ')})
       VALUES (${fields.map((field) => `$${field}`).join(', ')})
       RETURNING ${COLUMNS}`,
      Object.fromEntries(fields.map((field) => [field, input[field]])),
    ).catch((error: unknown) => {
      throw taxRateWriteError(error);
    });
    return row;
  }

  async update(rateId: string, changes: TaxRateChanges): Promise<TaxRateView> {
    const fields = fieldsOf(changes);
    const sets = [...fields.map((field) => `${FIELD_COLUMNS[field]} = $${field}`), 'updated_at = now()'];
    const [row] = await queryRows<TaxRateView>(
      `UPDATE tax_rates SET ${sets.join(', ')} WHERE id = $rateId RETURNING ${COLUMNS}`,
      { rateId, ...Object.fromEntries(fields.map((field) => [field, changes[field]])) },
    ).catch((error: unknown) => {
      throw taxRateWriteError(error);
    });
    if (!row) throw new NotFoundError('TaxRate');
    return row;
  }

  /** Deletes the rate; orders keep the rate they were taxed at. */
  async remove(rateId: string): Promise<void> {
    const removed = await queryRows('DELETE FROM tax_rates WHERE id = $rateId RETURNING id', { rateId });
    if (removed.length === 0) throw new NotFoundError('TaxRate');
  }
}

export const taxRateService = new TaxRateService();

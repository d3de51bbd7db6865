import type { Transaction } from 'sequelize';
import { queryRows } from './query';

/**
 * A status column money or stock depends on: one table of the moves it allows, and every write of
 * it goes through `moveStatus`, one conditional UPDATE (`WHERE status = ANY(allowed sources)`), so
 * of two writers at once only the one whose move is still allowed changes the row, and what
 * follows a move happens once. Each module declares the machines of its tables beside their
 * services (the order's own status, with its history, is order/order-state.ts).
 */
export interface StatusMachine<S extends string> {
  /** What the status is of, for messages. */
  name: string;
  table: string;
  column: string;
  /** The PostgreSQL type of the column (an enum, or varchar). */
  type: string;
  transitions: Readonly<Record<S, readonly S[]>>;
}

export function canMoveStatus<S extends string>(machine: StatusMachine<S>, from: S, to: S): boolean {
  return machine.transitions[from].includes(to);
}

/** The states from which `to` may be reached, narrowed to `only` when given. */
export function statusSources<S extends string>(machine: StatusMachine<S>, to: S, only?: readonly S[]): S[] {
  return (Object.keys(machine.transitions) as S[]).filter((from) => machine.transitions[from].includes(to) && (!only || only.includes(from)));
}

export interface StatusMoveOptions<S extends string> {
  /** An SQL condition on the table (alias `t`) choosing the rows, with `$name` binds from `bind`. */
  where: string;
  bind: Record<string, unknown>;
  /** Narrows the table's sources. */
  from?: readonly S[];
  /** Other columns set by the same UPDATE: column name → SQL expression (binds from `bind`). */
  set?: Record<string, string>;
  /** What the UPDATE returns of each row moved (its columns, as `RETURNING` takes them); default `t.id`. */
  returning?: string;
  transaction?: Transaction;
}

/**
 * Moves the chosen rows that are in a state allowed to reach `to`, in one conditional UPDATE;
 * rows in any other state are left as they are. Returns the rows moved (their ids by default).
 */
export async function moveStatus<S extends string, R extends object = { id: string }>(machine: StatusMachine<S>, to: S, options: StatusMoveOptions<S>): Promise<R[]> {
  const sources = statusSources(machine, to, options.from);
  if (sources.length === 0) return [];
  const sets = [`${machine.column} = $statusTo::${machine.type}`, 'updated_at = now()'];
  for (const [column, expression] of Object.entries(options.set ?? {})) {
    if (!/^[a-z_]+$/.test(column)) throw new Error(`Not a column name: ${column}`);
    sets.push(`${column} = ${expression}`);
  }
  return queryRows<R>(
    `UPDATE ${machine.table} t SET ${sets.join(', ')}
      WHERE (${options.where}) AND t.${machine.column} = ANY($statusFrom::${machine.type}[])
      RETURNING ${options.returning ?? 't.id'}`,
    { ...options.bind, statusTo: to, statusFrom: sources },
    options.transaction,
  );
}

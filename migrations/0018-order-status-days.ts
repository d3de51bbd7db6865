import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * The overview's orders by status, kept per UTC day of the orders' creation (the day boundary of
 * sales_days: `(created_at AT TIME ZONE 'UTC')::date`), so that a period counts a row per day and
 * status instead of every order:
 * - `order_status_deltas`: insert-only. Triggers on `orders` add +1 for an order's (day, status)
 *   when it is placed or moved there and −1 for the one it leaves (moved, re-dated or deleted).
 *   No row is ever updated by a checkout or a status move, so they never wait on each other here
 *   (a per-day counter updated in place would be one row every checkout of the day waits on).
 * - `order_status_days`: the deltas compacted, the orders created that day that have that status
 *   now. The `stats.compact-status-days` job moves the committed deltas into it every minute, in
 *   one statement (`DELETE … RETURNING` feeding an upsert): a delta is in one table or the other,
 *   so a statement that sums both for its days counts each change once, whenever it runs.
 * A TRUNCATE of orders empties both. Built here from the orders, by the statement
 * `npm run stats:rebuild` runs.
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    // No order is placed or moved while the table is filled (writes wait; reads do not).
    await run('LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE');
    await run(`CREATE TABLE order_status_days (
  day date NOT NULL,
  status enum_orders_status NOT NULL,
  orders integer NOT NULL,
  PRIMARY KEY (day, status)
)`);
    await run(`CREATE TABLE order_status_deltas (
  day date NOT NULL,
  status enum_orders_status NOT NULL,
  delta smallint NOT NULL
)`);
    await run(`CREATE FUNCTION order_status_deltas_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO order_status_deltas (day, status, delta) VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status, 1);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO order_status_deltas (day, status, delta) VALUES ((OLD.created_at AT TIME ZONE 'UTC')::date, OLD.status, -1);
  ELSE
    INSERT INTO order_status_deltas (day, status, delta)
    VALUES ((OLD.created_at AT TIME ZONE 'UTC')::date, OLD.status, -1), ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status, 1);
  END IF;
  RETURN NULL;
END
$$`);
    await run(`CREATE FUNCTION order_status_days_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM order_status_deltas;
  DELETE FROM order_status_days;
  RETURN NULL;
END
$$`);
    // Two triggers: a WHEN naming OLD and NEW is refused on one that also fires on INSERT or DELETE.
    await run('CREATE TRIGGER orders_status_days_placed AFTER INSERT OR DELETE ON orders FOR EACH ROW EXECUTE FUNCTION order_status_deltas_record()');
    await run(`CREATE TRIGGER orders_status_days_moved AFTER UPDATE OF status, created_at ON orders FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.created_at IS DISTINCT FROM NEW.created_at)
  EXECUTE FUNCTION order_status_deltas_record()`);
    await run('CREATE TRIGGER orders_status_days_truncated AFTER TRUNCATE ON orders FOR EACH STATEMENT EXECUTE FUNCTION order_status_days_truncate()');
    await run(`INSERT INTO order_status_days (day, status, orders)
SELECT (created_at AT TIME ZONE 'UTC')::date, status, count(*) FROM orders GROUP BY 1, 2`);
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run('DROP TRIGGER orders_status_days_truncated ON orders');
    await run('DROP TRIGGER orders_status_days_moved ON orders');
    await run('DROP TRIGGER orders_status_days_placed ON orders');
    await run('DROP FUNCTION order_status_days_truncate()');
    await run('DROP FUNCTION order_status_deltas_record()');
    await run('DROP TABLE order_status_deltas');
    await run('DROP TABLE order_status_days');
  });
};

import type { MigrationFn } from '../src/platform/db/migrator';

/**
 * A cart counts its lines (`carts.line_count`), kept by statement triggers on `cart_items` (one
 * UPDATE of the cart per statement, whatever inserts or deletes its lines: adds, merges, checkout,
 * removals), under a CHECK of the cart line limit (MAX_CART_LINES, 100). The limit is then the
 * database's: an add is one statement that needs no lock taken beforehand to count the lines,
 * and adds racing for the last place cannot both get it (the second's count update waits for the
 * first's and then breaks the CHECK).
 */
export const up: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run('ALTER TABLE carts ADD COLUMN line_count integer NOT NULL DEFAULT 0');
    await run(`UPDATE carts c SET line_count = n.lines
                 FROM (SELECT cart_id, count(*)::int AS lines FROM cart_items GROUP BY cart_id) n
                WHERE n.cart_id = c.id`);
    await run('ALTER TABLE carts ADD CONSTRAINT carts_line_count_check CHECK (line_count BETWEEN 0 AND 100)');
    await run(`CREATE FUNCTION cart_items_count_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE carts c SET line_count = c.line_count + a.lines
    FROM (SELECT cart_id, count(*)::int AS lines FROM added GROUP BY cart_id) a
   WHERE c.id = a.cart_id;
  RETURN NULL;
END
$$`);
    await run(`CREATE FUNCTION cart_items_count_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE carts c SET line_count = c.line_count - r.lines
    FROM (SELECT cart_id, count(*)::int AS lines FROM removed GROUP BY cart_id) r
   WHERE c.id = r.cart_id;
  RETURN NULL;
END
$$`);
    await run('CREATE TRIGGER cart_items_added AFTER INSERT ON cart_items REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION cart_items_count_added()');
    await run('CREATE TRIGGER cart_items_removed AFTER DELETE ON cart_items REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION cart_items_count_removed()');
  });
};

export const down: MigrationFn = async ({ context: { sequelize } }) => {
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    await run('DROP TRIGGER cart_items_removed ON cart_items');
    await run('DROP TRIGGER cart_items_added ON cart_items');
    await run('DROP FUNCTION cart_items_count_removed()');
    await run('DROP FUNCTION cart_items_count_added()');
    await run('ALTER TABLE carts DROP COLUMN line_count');
  });
};

import { SingleBar, Presets } from 'cli-progress';
import { config } from '../platform/config';
import { runPending } from '../platform/db/bootstrap';
import { createMigrator } from '../platform/db/migrator';
import { generateCatalog } from '../seed/catalog';
import { generateOrders } from '../seed/orders';
import { parseArgs, runCommand, UsageError } from './cli';

// npm run seed                        the demo data (once per database)
// npm run seed -- --products N        a generated catalog of N more products (and --sellers M)
// npm run seed -- --orders N          N paid orders over the last year, from the catalog's products
// npm run seed:undo                   revert the demo data
const { positional, options } = parseArgs();
const direction = positional[0] === 'down' ? 'down' : 'up';

void runCommand('seed', async (sequelize) => {
  await runPending(sequelize);
  if (direction === 'down') {
    const reverted = await createMigrator(sequelize, 'seeders').down();
    process.stdout.write(reverted.length > 0 ? `Reverted: ${reverted.map((s) => s.name).join(', ')}\n` : 'Nothing to revert.\n');
    return;
  }
  if (options.orders !== undefined) {
    const orders = Number(options.orders);
    if (!Number.isInteger(orders) || orders < 1 || orders > 1_000_000) throw new UsageError('--orders must be a whole number from 1 to 1000000');
    const bar = new SingleBar(
      { format: 'orders [{bar}] {value}/{total} {percentage}% | {duration}s', hideCursor: true, noTTYOutput: true, notTTYSchedule: 1000 },
      Presets.shades_classic,
    );
    const started = Date.now();
    bar.start(orders, 0);
    const result = await generateOrders(sequelize, { orders, bcryptRounds: config.bcryptRounds, onProgress: (done) => bar.update(done) });
    bar.stop();
    process.stdout.write(`Created ${result.orders} orders with ${result.lines} lines in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return;
  }
  if (options.products === undefined) {
    const applied = await runPending(sequelize, 'seeders');
    process.stdout.write(applied.length > 0 ? `Seeded: ${applied.join(', ')}\n` : 'The demo data is already there.\n');
    return;
  }
  const products = Number(options.products);
  const sellers = options.sellers === undefined ? Math.max(1, Math.min(100, Math.ceil(products / 200))) : Number(options.sellers);
  if (!Number.isInteger(products) || products < 1 || products > 1_000_000) throw new UsageError('--products must be a whole number from 1 to 1000000');
  if (!Number.isInteger(sellers) || sellers < 1 || sellers > 1000) throw new UsageError('--sellers must be a whole number from 1 to 1000');

  const bar = new SingleBar(
    { format: 'products [{bar}] {value}/{total} {percentage}% | {duration}s', hideCursor: true, noTTYOutput: true, notTTYSchedule: 1000 },
    Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(products, 0);
  await generateCatalog(sequelize, {
    products,
    sellers,
    bcryptRounds: config.bcryptRounds,
    onProgress: (done) => bar.update(done),
  });
  bar.stop();
  process.stdout.write(`Created ${products} products from ${sellers} sellers in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});

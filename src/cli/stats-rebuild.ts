import { runPending } from '../platform/db/bootstrap';
import { ledgerService } from '../modules/finance';
import { runCommand } from './cli';

// npm run stats:rebuild    builds the per-day sales (sales_days) again from the orders, e.g. after
//                          orders were edited by hand in the database.
void runCommand('stats:rebuild', async (sequelize) => {
  await runPending(sequelize);
  await ledgerService.rebuildSalesDays();
  process.stdout.write('Per-day sales rebuilt from the orders.\n');
});

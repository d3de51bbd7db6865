import { runPending } from '../platform/db/bootstrap';
import { ledgerService } from '../modules/finance';
import { runCommand } from './cli';

// npm run stats:rebuild    builds the per-day sales and refunds (sales_days) again from the orders
//                          and refund transactions, e.g. after they were edited by hand in the database.
void runCommand('stats:rebuild', async (sequelize) => {
  await runPending(sequelize);
  await ledgerService.rebuildSalesDays();
  process.stdout.write('Per-day sales and refunds rebuilt from the orders and refund transactions.\n');
});

import { runPending } from '../platform/db/bootstrap';
import { ledgerService, statsService } from '../modules/finance';
import { runCommand } from './cli';

// npm run stats:rebuild    builds the per-day sales and refunds (sales_days) and the per-day orders
//                          by status (order_status_days) again from the orders and refund
//                          transactions, e.g. after they were edited by hand in the database.
void runCommand('stats:rebuild', async (sequelize) => {
  await runPending(sequelize);
  await ledgerService.rebuildSalesDays();
  await statsService.rebuildOrderStatusDays();
  process.stdout.write('Per-day sales, refunds and orders by status rebuilt from the orders and refund transactions.\n');
});

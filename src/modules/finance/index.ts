import { onSellerTrading } from '../accounts';
import { payoutService } from './payout.service';

/**
 * Finance: the money rules (totals, commission, refund allocation), the sellers' ledger and
 * sales per day, disputes' holds, payouts and the statistics read from them. Depends on
 * accounts only; orders and payments record their money through it.
 */
export { adminFinanceRoutes, sellerFinanceRoutes } from './finance.routes';
export { ledgerService } from './ledger.service';
export { disputeService } from './dispute.service';
export { payoutService } from './payout.service';
export { statsService } from './stats.service';
export { allocateRefund, lineCommission, lineCommissionSql, lineNet, planRefund, proportionalShare, spreadByLargestRemainder, type RefundablePart, type RefundRequest, type RefundShare, type ReturnedUnits } from './money-rules';

// A seller approved again gets the Connect transfers held while they were suspended.
onSellerTrading(async (sellerId, trading, transaction) => {
  if (trading) await payoutService.releaseHeldPayouts(sellerId, transaction);
});

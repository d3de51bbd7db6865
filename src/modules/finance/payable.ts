import { config } from '../../platform/config';

/**
 * A line is payable once delivered and PAYOUT_HOLD_DAYS have passed since, unless its order has a
 * dispute open. `oi` is the order_items row.
 */
export function payableSql(): string {
  return `(oi.delivered_at IS NOT NULL AND oi.delivered_at <= now() - make_interval(days => ${Number(config.commerce.payoutHoldDays)})
           AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.order_id = oi.order_id AND d.status = 'open'))`;
}

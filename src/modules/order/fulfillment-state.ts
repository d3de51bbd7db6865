import type { FulfillmentStatus } from '../../models';
import type { StatusMachine } from '../../platform/db/status-machine';

/** order_items.fulfillment_status: a line ships once, and a cancelled or refunded line is final. */
export const FULFILLMENT_STATUS: StatusMachine<FulfillmentStatus> = {
  name: 'fulfillment status',
  table: 'order_items',
  column: 'fulfillment_status',
  type: 'enum_order_items_fulfillment_status',
  transitions: {
    unfulfilled: ['shipped', 'cancelled', 'refunded'],
    shipped: ['delivered', 'refunded'],
    delivered: ['refunded'],
    cancelled: [],
    refunded: [],
  },
};

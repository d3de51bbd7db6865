import type { DisputeStatus, PayoutStatus } from '../../models';
import type { StatusMachine } from '../../platform/db/status-machine';

/** seller_payouts.status: a payout is paid (or cancelled) once. */
export const PAYOUT_STATUS: StatusMachine<PayoutStatus> = {
  name: 'payout status',
  table: 'seller_payouts',
  column: 'status',
  type: 'enum_seller_payouts_status',
  transitions: {
    pending: ['paid', 'cancelled'],
    paid: [],
    cancelled: [],
  },
};

/** disputes.status: open until the provider closes it, won or lost. */
export const DISPUTE_STATUS: StatusMachine<DisputeStatus> = {
  name: 'dispute status',
  table: 'disputes',
  column: 'status',
  type: 'varchar',
  transitions: {
    open: ['won', 'lost'],
    won: [],
    lost: [],
  },
};

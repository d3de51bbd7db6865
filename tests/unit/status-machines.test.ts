import { canMove, ORDER_TRANSITIONS } from '../../src/modules/order/order-state';
import { canMoveStatus, statusSources, type StatusMachine } from '../../src/platform/db/status-machine';
import { DISPUTE_STATUS, PAYOUT_STATUS } from '../../src/modules/finance/finance-states';
import { FULFILLMENT_STATUS } from '../../src/modules/order/fulfillment-state';
import { PAYMENT_STATUS, REFUND_STATUS, TRANSACTION_STATUS } from '../../src/modules/payment/payment-states';

/**
 * Every status money or stock depends on, move by move: each table is written out here as the
 * list of moves it must allow, and every other pair of states must be refused.
 */
function everyPair<S extends string>(states: readonly S[]): Array<[S, S]> {
  return states.flatMap((from) => states.map((to): [S, S] => [from, to]));
}

function expectExactly<S extends string>(machine: StatusMachine<S>, allowed: string[]) {
  const states = Object.keys(machine.transitions) as S[];
  const actual = everyPair(states)
    .filter(([from, to]) => canMoveStatus(machine, from, to))
    .map(([from, to]) => `${from} → ${to}`);
  expect(actual.sort()).toEqual([...allowed].sort());
  // Sources agree with the table.
  for (const to of states) {
    expect(statusSources(machine, to).sort()).toEqual(states.filter((from) => allowed.includes(`${from} → ${to}`)).sort());
  }
}

describe('status transition tables', () => {
  it('orders.status', () => {
    const states = Object.keys(ORDER_TRANSITIONS) as Array<keyof typeof ORDER_TRANSITIONS>;
    const allowed = [
      'pending → confirmed',
      'pending → cancelled',
      'confirmed → processing',
      'confirmed → shipped',
      'confirmed → cancelled',
      'confirmed → refunded',
      'processing → shipped',
      'processing → refunded',
      'shipped → delivered',
      'shipped → refunded',
      'delivered → refunded',
    ];
    const actual = everyPair(states)
      .filter(([from, to]) => canMove(from, to))
      .map(([from, to]) => `${from} → ${to}`);
    expect(actual.sort()).toEqual(allowed.sort());
  });

  it('orders.payment_status: paid once, refunds move it on and never back', () => {
    expectExactly(PAYMENT_STATUS, ['unpaid → paid', 'paid → partially_refunded', 'paid → refunded', 'partially_refunded → partially_refunded', 'partially_refunded → refunded']);
  });

  it('order_items.fulfillment_status: a line ships once; cancelled and refunded are final', () => {
    expectExactly(FULFILLMENT_STATUS, [
      'unfulfilled → shipped',
      'unfulfilled → cancelled',
      'unfulfilled → refunded',
      'shipped → delivered',
      'shipped → refunded',
      'delivered → refunded',
    ]);
  });

  it('transactions.status: a failed attempt may still succeed; succeeded and canceled are final', () => {
    expectExactly(TRANSACTION_STATUS, [
      'pending → succeeded',
      'pending → failed',
      'pending → canceled',
      'failed → succeeded',
      'failed → failed',
      'failed → canceled',
    ]);
  });

  it('refunds.status: made or refused, once', () => {
    expectExactly(REFUND_STATUS, ['pending → succeeded', 'pending → failed']);
  });

  it('seller_payouts.status: paid or cancelled, once', () => {
    expectExactly(PAYOUT_STATUS, ['pending → paid', 'pending → cancelled']);
  });

  it('disputes.status: closed once, won or lost', () => {
    expectExactly(DISPUTE_STATUS, ['open → won', 'open → lost']);
  });

  it('narrows sources to those asked for', () => {
    expect(statusSources(FULFILLMENT_STATUS, 'refunded', ['shipped', 'cancelled'])).toEqual(['shipped']);
  });
});

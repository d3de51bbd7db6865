import { onSignIn } from '../accounts';
import { cartService } from './cart.service';

/**
 * Orders: carts, checkout (with idempotency keys), order reads, cancellation and expiry,
 * fulfillment, the order and fulfillment state machines, and the mails an order sends. Depends on
 * accounts, catalog (stock) and finance (totals, the ledger); payments reach it through the port
 * they provide (payments-port.ts).
 */
export { cartRoutes } from './cart.routes';
export { adminReturnRoutes, orderReturnRoutes, sellerReturnRoutes } from './return.routes';
export { adminOrderRoutes, orderRoutes, sellerOrderRoutes } from './order.routes';
export { adminPromotionRoutes, sellerPromotionRoutes } from './promotion.routes';
export { sellerShippingRateRoutes } from './shipping-rate.routes';
export { adminTaxRateRoutes } from './tax-rate.routes';
export { cartService } from './cart.service';
export { cancellationService } from './cancellation.service';
export { returnService, returnedUnits, returnRefunded } from './return.service';
export { checkoutService } from './checkout.service';
export { fulfillmentService } from './fulfillment.service';
export { orderService } from './order.service';
export { moveOrder, SYSTEM_ACTOR, type Actor } from './order-state';
export { FULFILLMENT_STATUS } from './fulfillment-state';
export { recordConfirmationMail } from './order-notifications';
export type { TransactionView } from './order.serializer';
export { providePayments, type OrderPayments } from './payments-port';

// A guest cart follows its owner into their account when they sign in or register.
onSignIn((userId, header) => cartService.mergeGuestCart(header('x-cart-token'), userId));

/**
 * Outgoing webhooks: endpoints integrations register, the events other modules record in the
 * transactions of their changes, and the deliveries that post them, signed, with retries. Depends
 * on accounts only; catalog, finance, order and payment record their events through it.
 */
export { adminWebhookRoutes, sellerWebhookRoutes } from './webhook.routes';
export { recordEvent, recordOrderEvent, recordProductEvent, recordReturnEvent } from './events';
export { deliveryService } from './delivery.service';

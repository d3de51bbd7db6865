import type { Request, Response } from 'express';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './payment.schemas';
import { orderService } from '../order';
import { intentService } from './intent.service';
import { refundService } from './refund.service';
import { paymentTransactionsService } from './payment-transactions.service';
import { webhookService } from './webhook.service';
import { callerOf } from '../accounts';

export const paymentController = {
  createIntent: handler(schemas.createIntent, async (req, res) => {
    res.json({ success: true, data: await intentService.createIntent(req.validated.body.orderId, callerOf(req)) });
  }),

  confirm: handler(schemas.confirm, async (req, res) => {
    const { orderId, paymentIntentId } = req.validated.body;
    await intentService.confirm(orderId, paymentIntentId, callerOf(req));
    res.json({ success: true, data: await orderService.get(orderId, callerOf(req)), message: 'Payment confirmed' });
  }),

  listForOrder: handler(schemas.byOrder, async (req, res) => {
    const order = await orderService.get(req.validated.params.orderId, callerOf(req));
    res.json({ success: true, data: { transactions: order.transactions ?? [] } });
  }),

  /** Stripe posts here; the body is the raw bytes it signed (express.raw on this path). */
  async webhook(req: Request, res: Response) {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const { duplicate } = await webhookService.receiveWebhook(body, req.get('stripe-signature'));
    res.json({ success: true, data: { received: true, duplicate } });
  },

  refund: handler(schemas.refund, async (req, res) => {
    await refundService.refund(req.validated.params.id, callerOf(req), req.validated.body);
    res.json({ success: true, data: await orderService.get(req.validated.params.id, callerOf(req)), message: 'Refund made' });
  }),

  markPaid: handler(schemas.markPaid, async (req, res) => {
    await intentService.markPaidManually(req.validated.params.id, callerOf(req), req.validated.body.reference || null);
    res.json({ success: true, data: await orderService.get(req.validated.params.id, callerOf(req)), message: 'Payment recorded; order confirmed' });
  }),

  adminTransactions: handler(schemas.adminTransactions, async (req, res) => {
    res.json({ success: true, data: await paymentTransactionsService.adminList(req.validated.query) });
  }),
};

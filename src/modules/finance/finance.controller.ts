import type { Request, Response } from 'express';
import { currentAuth } from '../accounts';
import { sendDataJson } from '../../platform/http/json-text';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './finance.schemas';
import { disputeService } from './dispute.service';
import { ledgerService } from './ledger.service';
import { payoutService } from './payout.service';
import { statsService } from './stats.service';

export const financeController = {
  sellerLedger: handler(schemas.ledger, async (req, res) => {
    res.json({ success: true, data: await ledgerService.ledger(currentAuth(req).user.id, req.validated.query) });
  }),

  sellerPayouts: handler(schemas.sellerPayouts, async (req, res) => {
    res.json({ success: true, data: await payoutService.listPayouts({ ...req.validated.query, sellerId: currentAuth(req).user.id }) });
  }),

  sellerStats: handler(schemas.sellerStats, async (req, res) => {
    res.json({ success: true, data: await statsService.seller(currentAuth(req).user.id, req.validated.query) });
  }),

  adminDisputes: handler(schemas.adminDisputes, async (req, res) => {
    res.json({ success: true, data: await disputeService.listDisputes(req.validated.query) });
  }),

  adminPayouts: handler(schemas.adminPayouts, async (req, res) => {
    res.json({ success: true, data: await payoutService.listPayouts(req.validated.query) });
  }),

  async runPayouts(_req: Request, res: Response) {
    const payouts = await payoutService.runPayouts();
    if (payouts.length > 0) {
      res.json({ success: true, data: { payouts, nextPayableAt: null }, message: `${payouts.length} payout(s) created` });
      return;
    }
    const { reason, nextPayableAt } = await payoutService.nothingToPayReason();
    res.json({ success: true, data: { payouts, nextPayableAt }, message: reason });
  },

  markPayoutPaid: handler(schemas.markPayoutPaid, async (req, res) => {
    const payout = await payoutService.markPaid(req.validated.params.id, req.validated.body.reference || null);
    res.json({ success: true, data: payout, message: 'Payout marked paid' });
  }),

  overview: handler(schemas.overview, async (req, res) => {
    res.json({ success: true, data: await statsService.overview(req.validated.query) });
  }),

  sales: handler(schemas.sales, async (req, res) => {
    const { interval, ...period } = req.validated.query;
    sendDataJson(res, `{"series":${await statsService.salesJson(period, interval)}}`);
  }),

  topProducts: handler(schemas.top, async (req, res) => {
    const { limit, ...period } = req.validated.query;
    res.json({ success: true, data: { products: await statsService.topProducts(period, limit) } });
  }),

  topSellers: handler(schemas.top, async (req, res) => {
    const { limit, ...period } = req.validated.query;
    res.json({ success: true, data: { sellers: await statsService.topSellers(period, limit) } });
  }),
};

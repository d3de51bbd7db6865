import type { Request, Response } from 'express';
import { currentAuth } from '../middleware/auth.middleware';
import { ledgerService } from '../services/ledger.service';
import { statsService } from '../services/stats.service';

export const financeController = {
  async sellerLedger(req: Request, res: Response) {
    res.json({ success: true, data: await ledgerService.ledger(currentAuth(req).user.id, req.validated.query) });
  },

  async sellerPayouts(req: Request, res: Response) {
    res.json({ success: true, data: await ledgerService.listPayouts({ ...req.validated.query, sellerId: currentAuth(req).user.id }) });
  },

  async sellerStats(req: Request, res: Response) {
    res.json({ success: true, data: await statsService.seller(currentAuth(req).user.id, req.validated.query) });
  },

  async adminDisputes(req: Request, res: Response) {
    res.json({ success: true, data: await ledgerService.listDisputes(req.validated.query) });
  },

  async adminPayouts(req: Request, res: Response) {
    res.json({ success: true, data: await ledgerService.listPayouts(req.validated.query) });
  },

  async runPayouts(_req: Request, res: Response) {
    const payouts = await ledgerService.runPayouts();
    res.json({ success: true, data: { payouts }, message: payouts.length > 0 ? `${payouts.length} payout(s) created` : 'Nothing to pay out' });
  },

  async markPayoutPaid(req: Request, res: Response) {
    const payout = await ledgerService.markPaid(req.validated.params.id, req.validated.body.reference || null);
    res.json({ success: true, data: payout, message: 'Payout marked paid' });
  },

  async overview(req: Request, res: Response) {
    res.json({ success: true, data: await statsService.overview(req.validated.query) });
  },

  async sales(req: Request, res: Response) {
    const { interval, ...period } = req.validated.query;
    res.json({ success: true, data: { series: await statsService.sales(period, interval) } });
  },

  async topProducts(req: Request, res: Response) {
    const { limit, ...period } = req.validated.query;
    res.json({ success: true, data: { products: await statsService.topProducts(period, limit) } });
  },

  async topSellers(req: Request, res: Response) {
    const { limit, ...period } = req.validated.query;
    res.json({ success: true, data: { sellers: await statsService.topSellers(period, limit) } });
  },
};

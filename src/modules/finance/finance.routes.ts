import { financeController as controller } from './finance.controller';
import { authenticate, authorize } from '../accounts';
import { validate } from '../../platform/http/validate.middleware';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './finance.schemas';

const PAYOUT = { $ref: '#/components/schemas/Payout' };
const PAGINATION = { $ref: '#/components/schemas/Pagination' };
const PAYOUT_PAGE = { payouts: { type: 'array', items: PAYOUT }, pagination: PAGINATION };

export const sellerFinanceRoutes = new ApiRouter('/api/seller', 'Seller dashboard')
  .get(
    '/ledger',
    {
      summary: 'Your ledger: sales, commission, refunds and payouts, newest first, with your balance',
      description: 'Amounts are signed (what you are credited is positive). All entries add up to balance.available + balance.pending.',
      returns: 'entries, balance, pagination',
      response: { entries: { type: 'array', items: { $ref: '#/components/schemas/LedgerEntry' } }, balance: { $ref: '#/components/schemas/Balance' }, pagination: PAGINATION },
    },
    authenticate,
    authorize('seller'),
    validate(schemas.ledger),
    controller.sellerLedger,
  )
  .get('/payouts', { summary: 'Your payouts, newest first', returns: 'payouts, pagination', response: PAYOUT_PAGE }, authenticate, authorize('seller'), validate(schemas.sellerPayouts), controller.sellerPayouts)
  .get(
    '/stats',
    {
      summary: 'Your sales in a period (by payment date), your balance and your low-stock products',
      returns: 'salesCount, unitsSold, grossRevenue, commission, refunds, netEarnings, balance, lowStockProducts',
      response: { $ref: '#/components/schemas/SellerStats' },
    },
    authenticate,
    authorize('seller'),
    validate(schemas.sellerStats),
    controller.sellerStats,
  );

export const adminFinanceRoutes = new ApiRouter('/api/admin', 'Admin: finance')
  .get('/payouts', { summary: 'Seller payouts, newest first, by status or seller', returns: 'payouts, pagination', response: PAYOUT_PAGE }, authenticate, authorize('admin'), validate(schemas.adminPayouts), controller.adminPayouts)
  .post(
    '/payouts/run',
    {
      example: {},
      summary: "Create today's payouts now (the daily job does the same): one per seller with payable earnings",
      description: 'Running it again the same day (UTC), or at the same time as the job, creates nothing twice. Sellers with a Stripe Connect account are paid by transfer.',
      returns: 'payouts, nextPayableAt (with no payout: when the first held line becomes payable; the message says why nothing was paid)',
      response: {
        payouts: { type: 'array', items: PAYOUT },
        nextPayableAt: { type: ['string', 'null'], format: 'date-time' },
      },
    },
    authenticate,
    authorize('admin'),
    validate(schemas.runPayouts),
    controller.runPayouts,
  )
  .post(
    '/payouts/:id/mark-paid',
    {
      example: { reference: 'BANK-2026-12-05-0042' },
      summary: 'Record that a payout was paid by bank transfer; mails the seller',
      description: "A suspended seller's payouts are held until the account is approved again (409 PAYOUT_HELD).",
      returns: 'the payout',
      response: PAYOUT,
      errors: ['404 PAYOUT_NOT_FOUND', '409 PAYOUT_ALREADY_PAID', '409 PAYOUT_HELD'],
    },
    authenticate,
    authorize('admin'),
    validate(schemas.markPayoutPaid),
    controller.markPayoutPaid,
  )
  .get(
    '/disputes',
    {
      summary: 'Card payments disputed with the bank, newest first, by status',
      description: "While a dispute is open its order's lines are not payable; lost, each seller's net share of the disputed amount is taken back by a `dispute` ledger entry.",
      returns: 'disputes, pagination',
      response: { disputes: { type: 'array', items: { $ref: '#/components/schemas/Dispute' } }, pagination: PAGINATION },
    },
    authenticate,
    authorize('admin'),
    validate(schemas.adminDisputes),
    controller.adminDisputes,
  )
  .get('/stats/overview', { summary: 'Sales, refunds, commission and orders of a period', returns: 'the overview', response: { $ref: '#/components/schemas/StatsOverview' } }, authenticate, authorize('admin'), validate(schemas.overview), controller.overview)
  .get(
    '/stats/sales',
    {
      summary: 'Sales by day, week or month (UTC), empty buckets included; buckets add up to the overview',
      returns: 'series',
      response: { series: { type: 'array', items: { $ref: '#/components/schemas/SalesBucket' } } },
    },
    authenticate,
    authorize('admin'),
    validate(schemas.sales),
    controller.sales,
  )
  .get(
    '/stats/top-products',
    { summary: 'Best-selling products of a period by revenue', returns: 'products', response: { products: { type: 'array', items: { $ref: '#/components/schemas/TopProduct' } } } },
    authenticate,
    authorize('admin'),
    validate(schemas.top),
    controller.topProducts,
  )
  .get(
    '/stats/top-sellers',
    {
      summary: 'Best-selling sellers of a period, with commission and net earnings',
      returns: 'sellers',
      response: { sellers: { type: 'array', items: { $ref: '#/components/schemas/TopSeller' } } },
    },
    authenticate,
    authorize('admin'),
    validate(schemas.top),
    controller.topSellers,
  );

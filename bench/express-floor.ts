import 'reflect-metadata';
import express from 'express';
import { Pool } from 'pg';
import { useHardening } from '../src/app';
import { requestId } from '../src/platform/http/request-context.middleware';
import { listPage, productBySlug } from './catalog-reads';

/**
 * Express 5 with the API's hardening and nothing of the API's own work: its request id, then
 * useHardening (helmet's headers, CORS, the body parsers, the per-address rate limit in memory),
 * as the API configures them from the same environment, and the list page and the product by
 * slug running the bare server's statements (bench/catalog-reads.ts) and answering their rows
 * with res.json (ETag included, as the API's answers have one). No request log, metrics,
 * validation, session check or serializer.
 *
 * Between the bare server and the API: what the framework and the hardening cost by themselves,
 * so that the bench can tell that share of the API's gap to the bare server from the share of
 * the API's own code.
 *
 * With EXPRESS_FLOOR_HARDENING=off it is Express alone: the same routes and res.json, without the
 * request id and the hardening, the most an Express application can reach on these requests.
 */

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = express();
if (process.env.EXPRESS_FLOOR_HARDENING !== 'off') {
  app.use(requestId);
  useHardening(app);
}
app.get('/health', (_req, res) => {
  res.json({ success: true });
});
app.get('/api/products', async (req, res) => {
  const page = Math.max(1, Number(req.query.page ?? 1) || 1);
  res.json({ success: true, data: await listPage(pool, page) });
});
app.get('/api/products/:slug', async (req, res) => {
  const row = await productBySlug(pool, req.params.slug);
  if (row) res.json({ success: true, data: row });
  else res.status(404).json({ success: false });
});

const server = app.listen(Number(process.env.PORT ?? 5098), '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.end().then(() => process.exit(0));
});

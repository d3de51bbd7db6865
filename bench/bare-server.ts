import http from 'node:http';
import { Pool } from 'pg';
import { toPositional } from '../src/db/hot-query';
import { buildDetailStatement, buildListStatement } from '../src/services/product.service';

/**
 * The floor of the benchmark: node:http and pg running the API's own SQL text for the list page
 * and the product, with no framework, validation, logging or serialization beyond JSON.stringify.
 */

const LIMIT = 20;
const listShape = buildListStatement({ page: 1, limit: LIMIT, sortBy: 'createdAt', sortOrder: 'desc' });
const list = toPositional(listShape.sql);
const detail = toPositional(buildDetailStatement({ slug: 'placeholder' }).sql);

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/health') return send(res, 200, { success: true });
  if (url.pathname === '/list') {
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const bind = buildListStatement({ page, limit: LIMIT, sortBy: 'createdAt', sortOrder: 'desc' }).bind;
    pool.query(list.text, list.names.map((name) => bind[name])).then(
      ({ rows }) => {
        const total = Number(rows[0]?.total ?? 0);
        send(res, 200, { success: true, data: { products: rows.filter((row) => row.id !== null), pagination: { page, limit: LIMIT, total, totalPages: Math.ceil(total / LIMIT) } } });
      },
      (error: Error) => send(res, 500, { success: false, error: error.message }),
    );
    return undefined;
  }
  if (url.pathname.startsWith('/product/')) {
    const slug = decodeURIComponent(url.pathname.slice('/product/'.length));
    pool.query(detail.text, [slug]).then(
      ({ rows }) => (rows[0] ? send(res, 200, { success: true, data: rows[0] }) : send(res, 404, { success: false })),
      (error: Error) => send(res, 500, { success: false, error: error.message }),
    );
    return undefined;
  }
  return send(res, 404, { success: false });
});

server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 5099), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.end().then(() => process.exit(0));
});

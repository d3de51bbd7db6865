import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { useTestApp } from '../support/app';

describe('HTTP layer', () => {
  const ctx = useTestApp();

  it('answers /health with the liveness body', async () => {
    const res = await request(ctx.app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, message: 'OK', timestamp: expect.any(String), uptime: expect.any(Number) });
  });

  it('answers /ready with 200 when the database answers', async () => {
    const res = await request(ctx.app).get('/ready');
    expect(res.status).toBe(200);
    expect(res.body.data.checks.database).toBe('up');
  });

  it('answers an unknown route with 404 ROUTE_NOT_FOUND in the envelope', async () => {
    const res = await request(ctx.app).get('/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ success: false, error: { code: 'ROUTE_NOT_FOUND', message: expect.any(String) } });
  });

  it('routes a path to the routers of its first segments whatever their case, trailing slash or neighbours', async () => {
    // Routers are picked by the path's deciding segment (api/<segment>); matching stays as Express's.
    for (const path of ['/api/products', '/API/Products', '/api/products/', '/api/categories', '/health']) {
      expect(`${path} ${(await request(ctx.app).get(path)).status}`).toBe(`${path} 200`);
    }
    for (const path of ['/api', '/api/', '/api/:id', '/nothing', '/api/products/search/extra/deep']) {
      const res = await request(ctx.app).get(path);
      expect(`${path} ${res.status} ${res.body.error?.code}`).toBe(`${path} 404 ROUTE_NOT_FOUND`);
    }
  });

  it('answers a wrong method on a known path with 405 and Allow', async () => {
    const res = await request(ctx.app).delete('/api/auth/login');
    expect(res.status).toBe(405);
    expect(res.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toBe('POST');
  });

  it('answers malformed JSON with 400 INVALID_JSON', async () => {
    const res = await request(ctx.app).post('/api/auth/login').set('Content-Type', 'application/json').send('{"email": "a@b.c",');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_JSON');
    expect(res.body.success).toBe(false);
  });

  it('answers a path that is not valid percent-encoding with 400 INVALID_URL, never a 500', async () => {
    for (const url of ['/api/products/abc%ZZ', '/api/products/abc%ZZ/related', '/api/categories/%E0%A4%A', '/api/products/abc%ZZ/reviews?page=1']) {
      const res = await request(ctx.app).get(url);
      expect({ url, status: res.status, code: res.body.error?.code }).toEqual({ url, status: 400, code: 'INVALID_URL' });
      expect(res.body.success).toBe(false);
    }
    const write = await request(ctx.app).patch('/api/products/%ZZ').send({ name: 'x' });
    expect(write.status).toBe(400);
    expect(write.body.error.code).toBe('INVALID_URL');
  });

  it('reads a gzip body, answers one that is not gzip with 400 INVALID_BODY, and an unknown encoding with 415', async () => {
    const json = JSON.stringify({ email: 'nobody@example.com', password: 'not-the-password' });
    // The bytes as given: superagent would otherwise send a Buffer as JSON ({"type":"Buffer",…}).
    const login = (encoding: string, body: Buffer) =>
      request(ctx.app)
        .post('/api/auth/login')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        .serialize((bytes: unknown) => bytes as string)
        .send(body);

    const gzipped = await login('gzip', gzipSync(json));
    expect(gzipped.status).toBe(401);
    expect(gzipped.body.error.code).toBe('INVALID_CREDENTIALS');

    const notGzip = await login('gzip', Buffer.from(json));
    expect(notGzip.status).toBe(400);
    expect(notGzip.body).toEqual({ success: false, error: { code: 'INVALID_BODY', message: expect.any(String) } });

    const cut = await login('gzip', gzipSync(json).subarray(0, 20));
    expect(cut.status).toBe(400);
    expect(cut.body.error.code).toBe('INVALID_BODY');
    const notBrotli = await login('br', Buffer.from(json));
    expect(notBrotli.status).toBe(400);
    expect(notBrotli.body.error.code).toBe('INVALID_BODY');

    const unknown = await login('compress', Buffer.from(json));
    expect(unknown.status).toBe(415);
    expect(unknown.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    const charset = await request(ctx.app).post('/api/auth/login').set('Content-Type', 'application/json; charset=x-unknown').send(json);
    expect(charset.status).toBe(415);
    expect(charset.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await request(ctx.app)
      .post('/api/auth/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(200_000) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers a body of the wrong type with 400 VALIDATION_ERROR and details, never a 5xx', async () => {
    for (const body of ['[]', '"text"', '42', 'null', '{"email": {"$gt": ""}, "password": ["x"]}']) {
      const res = await request(ctx.app).post('/api/auth/login').set('Content-Type', 'application/json').send(body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.success).toBe(false);
    }
    const res = await request(ctx.app).post('/api/auth/login').send({ email: 'not-an-email', password: 7 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'email' }), expect.objectContaining({ field: 'password' })]),
    );
  });

  it('refuses NUL characters in any field with 400, before they reach the database', async () => {
    const res = await request(ctx.app).post('/api/auth/login').send({ email: 'a@b.co', password: 'pass\u0000word' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'password' })]);
  });

  it('rejects unknown body fields and unknown query parameters', async () => {
    const body = await request(ctx.app).post('/api/auth/forgot-password').send({ email: 'a@b.co', admin: true });
    expect(body.status).toBe(400);
    expect(body.body.error.details).toEqual([expect.objectContaining({ field: 'admin' })]);
    const query = await request(ctx.app).post('/api/auth/forgot-password?debug=1').send({ email: 'a@b.co' });
    expect(query.status).toBe(400);
  });

  it('echoes a sane X-Request-Id and generates one otherwise', async () => {
    const echoed = await request(ctx.app).get('/health').set('X-Request-Id', 'client-abc.123');
    expect(echoed.headers['x-request-id']).toBe('client-abc.123');
    const generated = await request(ctx.app).get('/health').set('X-Request-Id', 'bad id with spaces<script>');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await request(ctx.app).get('/api/nowhere');
    expect(missing.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives CORS headers to allowed origins only, and never fails for others', async () => {
    const allowed = await request(ctx.app).get('/health').set('Origin', 'http://shop.test');
    expect(allowed.headers['access-control-allow-origin']).toBe('http://shop.test');
    // What a browser client reads of an answer: the request id, an order's replay, the rate limits.
    expect(allowed.headers['access-control-expose-headers']?.split(',')).toEqual(
      expect.arrayContaining(['X-Request-Id', 'Idempotent-Replayed', 'RateLimit-Remaining', 'Retry-After']),
    );
    const preflight = await request(ctx.app)
      .options('/api/auth/login')
      .set('Origin', 'http://admin.shop.test')
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://admin.shop.test');
    const denied = await request(ctx.app).get('/health').set('Origin', 'http://evil.test');
    expect(denied.status).toBe(200);
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sets security headers and hides the framework', async () => {
    const res = await request(ctx.app).get('/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('publishes the OpenAPI document and Swagger UI', async () => {
    const doc = await request(ctx.app).get('/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.paths['/api/auth/login'].post.requestBody).toBeDefined();
    expect(doc.body.paths['/health'].get).toBeDefined();
    const ui = await request(ctx.app).get('/api/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger-ui');
  });

  it('exposes Prometheus metrics by route template', async () => {
    await request(ctx.app).get('/health');
    const res = await request(ctx.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('http_requests_total');
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/health"/);
  });
});

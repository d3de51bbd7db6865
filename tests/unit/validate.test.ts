import type { NextFunction, Request, Response } from 'express';
import { handler, validate } from '../../src/platform/http/validate.middleware';
import * as paymentSchemas from '../../src/modules/payment/payment.schemas';
import * as productSchemas from '../../src/modules/catalog/product.schemas';
import { cachePublicResponse } from '../../src/platform/http/public-cache.middleware';
import { ApiRouter, type RouteInputSchemas } from '../../src/platform/http/openapi';

/** Runs a validate() middleware on a hand-made request; the error it throws, if any. */
function run(schemas: RouteInputSchemas, input: { body?: unknown; query?: Record<string, unknown> }): unknown {
  const req = { params: {}, query: input.query ?? {}, body: input.body, validated: {} } as unknown as Request;
  let error: unknown;
  let passed = false;
  try {
    validate(schemas)(req, {} as Response, (() => {
      passed = true;
    }) as NextFunction);
  } catch (thrown) {
    error = thrown;
  }
  return passed ? undefined : (error ?? new Error('neither passed nor threw'));
}

describe('validate()', () => {
  it('never walks the bytes of a raw body (Buffer, typed array)', () => {
    let walked = 0;
    // A Buffer whose keys are counted: the raw webhook body must be left to its signature check.
    const counted = new Proxy(Buffer.alloc(1024 * 1024), {
      ownKeys(target) {
        walked += 1;
        return Reflect.ownKeys(target);
      },
    });
    expect(run(paymentSchemas.webhook, { body: counted })).toBeUndefined();
    expect(walked).toBe(0);

    // A NUL hidden in a property of the bytes' object is no field of a parsed body.
    const buffer = Object.assign(Buffer.from('raw bytes'), { note: 'a\u0000b' });
    const typed = Object.assign(new Uint8Array(16), { note: 'a\u0000b' });
    expect(run(paymentSchemas.webhook, { body: buffer })).toBeUndefined();
    expect(run(paymentSchemas.webhook, { body: typed })).toBeUndefined();
  });

  it('refuses any body on a route that declares none, but not its absence', () => {
    expect(run({}, { body: { foo: 1, bar: 2 } })).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: [
        { field: 'foo', message: 'foo is not allowed' },
        { field: 'bar', message: 'bar is not allowed' },
      ],
    });
    for (const body of [[1], Buffer.from('bytes'), 'text']) {
      expect(run({}, { body })).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'body', message: 'body is not allowed' }] });
    }
    for (const body of [undefined, {}, [], Object.create(null), Buffer.alloc(0)]) expect(run({}, { body })).toBeUndefined();
    // Stripe's webhook reads raw bytes, checked by their signature.
    expect(run(paymentSchemas.webhook, { body: Buffer.from('{"id":"evt_1"}') })).toBeUndefined();
  });

  it('is on every route: one registered without it is refused when the app is built', () => {
    const router = new ApiRouter('/api/things', 'Things');
    expect(() => router.post('/', { summary: 'Takes anything' }, (_req, res) => res.end())).toThrow(/POST \/api\/things has no validate\(\)/);
    expect(() => router.post('/', { summary: 'Takes nothing' }, validate({}), (_req, res) => res.end())).not.toThrow();
  });

  it("is the one of the controller's schemas: a route validating others is refused when the app is built", () => {
    const router = new ApiRouter('/api/things', 'Things');
    const controller = handler(paymentSchemas.createIntent, (req, res) => {
      res.json({ orderId: req.validated.body.orderId });
    });
    expect(() => router.post('/', { summary: 'Reads an orderId' }, validate(paymentSchemas.confirm), controller)).toThrow(
      /POST \/api\/things validates other schemas than its controller \(or its cache's refresh\) reads/,
    );
    expect(() => router.post('/', { summary: 'Reads an orderId' }, validate(paymentSchemas.createIntent), controller)).not.toThrow();
  });

  it("is the one of the public cache's refresh: a cached route whose refresh reads other schemas is refused when the app is built", () => {
    const router = new ApiRouter('/api/things', 'Things');
    const controller = handler(productSchemas.list, (req, res) => {
      res.json({ page: req.validated.query.page });
    });
    const refreshing = (schemas: typeof productSchemas.list | typeof productSchemas.search) =>
      cachePublicResponse({ refresh: { schemas, data: () => Promise.resolve({}) } });
    expect(() => router.get('/', { summary: 'Lists things' }, refreshing(productSchemas.search), validate(productSchemas.list), controller)).toThrow(
      /GET \/api\/things validates other schemas than its controller \(or its cache's refresh\) reads/,
    );
    expect(() => router.get('/', { summary: 'Lists things' }, refreshing(productSchemas.list), validate(productSchemas.list), controller)).not.toThrow();
  });

  it('still refuses NUL characters in parsed bodies and query strings', () => {
    const query = Object.assign(Object.create(null) as Record<string, unknown>, { q: 'a\u0000' });
    expect(run({}, { query })).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'q' }] });
    expect(run({}, { body: { list: [{ name: 'x\u0000' }] } })).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'list.0.name' }] });
  });
});

// Imported first (the default, said here since tests/integration/webhooks.test.ts lifts it for its loopback receiver).
process.env.WEBHOOK_ALLOW_PRIVATE_URLS = 'false';
import request from 'supertest';
import { guardedLookup, isPublicAddress } from '../../src/modules/webhooks/url-guard';
import { useTestApp } from '../support/app';
import { signedInSeller } from '../support/catalog';

/** Webhook URLs never reach loopback, private, link-local or metadata addresses: at registration, and as a delivery connects. */
describe('webhook URLs (SSRF)', () => {
  const ctx = useTestApp();

  it('refuses URLs of loopback, private, link-local, metadata and reserved addresses', async () => {
    const seller = await signedInSeller(ctx.app);
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://10.0.0.5/hook',
      'http://192.168.1.20/hook',
      'http://172.16.3.4/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[fd00::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://100.64.0.1/hook',
      'http://0.0.0.0/hook',
      'http://user:pass@93.184.216.34/hook',
      'http://no-such-host.invalid/hook',
    ]) {
      const res = await request(ctx.app).post('/api/seller/webhooks').set('Authorization', seller.bearer).send({ url, events: ['order.paid'] });
      expect(`${url} ${res.status} ${res.body.error?.code}`).toBe(`${url} 400 INVALID_WEBHOOK_URL`);
    }
    const fine = await request(ctx.app).post('/api/seller/webhooks').set('Authorization', seller.bearer).send({ url: 'https://93.184.216.34/hook', events: ['order.paid'] });
    expect(fine.status).toBe(201);
    const moved = await request(ctx.app).patch(`/api/seller/webhooks/${fine.body.data.id}`).set('Authorization', seller.bearer).send({ url: 'http://169.254.169.254/' });
    expect([moved.status, moved.body.error.code]).toEqual([400, 'INVALID_WEBHOOK_URL']);
  });

  it('checks the address a delivery connects to, whatever the name resolved to at registration', async () => {
    expect(['8.8.8.8', '2606:4700:4700::1111'].every(isPublicAddress)).toBe(true);
    expect(['127.0.0.1', '::1', '10.1.1.1', '169.254.169.254', 'fe80::1', '::ffff:10.0.0.1', '224.0.0.1', 'not-an-ip'].some(isPublicAddress)).toBe(false);
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('localhost', {}, (err) => resolve(err)));
    expect(error?.code).toBe('EWEBHOOKADDRESS');
  });
});

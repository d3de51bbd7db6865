import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { v2 as cloudinary } from 'cloudinary';
import { Upload } from '../../src/models';
import { signedInUser, type SignedIn } from '../support/auth';
import { CloudinaryStub, cloudinarySignature } from '../support/cloudinary-stub';
import { useTestDatabase } from '../support/database';
import { IMAGES, paddedPng, TEXT_FILE } from '../support/images';

// The configuration is read once per test file, on first use (the logger reads it when loaded):
// the stub must be listening and the environment set before anything that reads it is imported,
// so the app is imported in beforeAll below, not at the top.
const stub = new CloudinaryStub({ cloudName: 'marketplace-test', apiKey: '614335564976464', apiSecret: 'stub-api-secret-0123456789' });
const ENV_KEYS = ['CLOUDINARY_CLOUD_NAME', 'CLOUDINARY_API_KEY', 'CLOUDINARY_API_SECRET', 'CLOUDINARY_UPLOAD_PREFIX'] as const;
const previousEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

beforeAll(async () => {
  await stub.start();
  Object.assign(process.env, {
    CLOUDINARY_CLOUD_NAME: stub.credentials.cloudName,
    CLOUDINARY_API_KEY: stub.credentials.apiKey,
    CLOUDINARY_API_SECRET: stub.credentials.apiSecret,
    CLOUDINARY_UPLOAD_PREFIX: stub.url,
  });
});

useTestDatabase();

let app: Express;
let dataDir: string;
let stopJobs: () => Promise<void>;

beforeAll(async () => {
  const { config } = await import('../../src/platform/config');
  expect(config.cloudinary).toEqual({ cloudName: 'marketplace-test', apiKey: stub.credentials.apiKey, apiSecret: stub.credentials.apiSecret, uploadPrefix: stub.url });
  dataDir = config.dataDir;
  const jobs = await import('../../src/jobs');
  jobs.initJobs();
  await jobs.startJobProcessing();
  const redis = await import('../../src/platform/redis');
  stopJobs = async () => {
    await jobs.closeJobs();
    await redis.closeRedis();
  };
  const { createApp } = await import('../../src/app');
  app = createApp();
});

afterAll(async () => {
  await stopJobs?.();
  await stub.stop();
  for (const key of ENV_KEYS) {
    if (previousEnv[key] === undefined) delete process.env[key];
    else process.env[key] = previousEnv[key];
  }
});

function localFiles(): string[] {
  const dir = path.join(dataDir, 'uploads');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

function fetchFromStub(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

describe('uploads (Cloudinary through its SDK, against a local stand-in)', () => {
  let seller: SignedIn;
  let customer: SignedIn;

  beforeAll(async () => {
    seller = await signedInUser(app, { role: 'seller' });
    customer = await signedInUser(app);
  });

  it('uploads through a signed request and records the Cloudinary asset', async () => {
    const before = stub.requests.length;
    const localBefore = localFiles();
    const res = await request(app).post('/api/upload/image').set('Authorization', customer.bearer).attach('image', IMAGES.jpeg, 'photo.png');
    expect(res.status).toBe(201);
    const image = res.body.data;
    expect(image).toMatchObject({ format: 'jpeg', width: 1, height: 1, bytes: IMAGES.jpeg.length });
    expect(image.publicId).toMatch(/^[0-9a-f]{32}$/);

    const call = stub.requests[before];
    expect(call).toMatchObject({ path: '/v1_1/marketplace-test/image/upload', status: 200 });
    expect(call.params.signature).toBe(cloudinarySignature(call.params, stub.credentials.apiSecret));
    expect(call.params.public_id).toBe(image.publicId);

    const asset = stub.assets.get(image.publicId);
    expect(asset?.bytes).toEqual(IMAGES.jpeg);
    expect(image.url).toBe(`${stub.url}/marketplace-test/image/upload/v${asset?.version}/${image.publicId}.jpg`);
    const served = await fetchFromStub(image.url);
    expect(served).toEqual({ status: 200, body: IMAGES.jpeg });

    expect(await Upload.findByPublicId(image.publicId)).toMatchObject({ provider: 'cloudinary', uploaderId: customer.user.id, url: image.url, format: 'jpeg' });
    expect(localFiles()).toEqual(localBefore);
  });

  it('uploads several images of a seller', async () => {
    const res = await request(app)
      .post('/api/upload/images')
      .set('Authorization', seller.bearer)
      .attach('images', IMAGES.png, 'a.png')
      .attach('images', IMAGES.webp, 'b.webp');
    expect(res.status).toBe(201);
    expect(res.body.data.images.map((image: { format: string }) => image.format)).toEqual(['png', 'webp']);
    for (const image of res.body.data.images) expect(stub.assets.has(image.publicId)).toBe(true);
  });

  it('streams a big file from its temporary file to Cloudinary, and removes the temporary file', async () => {
    const big = paddedPng(4 * 1024 * 1024);
    const res = await request(app).post('/api/upload/image').set('Authorization', seller.bearer).attach('image', big, 'big.png');
    expect(res.status).toBe(201);
    expect(stub.assets.get(res.body.data.publicId)?.bytes.equals(big)).toBe(true);
    const { uploadTempDir } = await import('../../src/modules/catalog/upload.middleware');
    const deadline = Date.now() + 5000;
    while (fs.readdirSync(uploadTempDir()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fs.readdirSync(uploadTempDir())).toEqual([]);
  });

  it('sends nothing to Cloudinary for a file that is not an image', async () => {
    const before = stub.requests.length;
    const res = await request(app).post('/api/upload/image').set('Authorization', customer.bearer).attach('image', TEXT_FILE, { filename: 'notes.jpg', contentType: 'image/jpeg' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_FILE_TYPE');
    expect(stub.requests.length).toBe(before);
  });

  it('destroys the asset when its uploader deletes it, and refuses others with 404', async () => {
    const { publicId } = (await request(app).post('/api/upload/image').set('Authorization', seller.bearer).attach('image', IMAGES.gif, 'a.gif')).body.data;
    const stranger = await request(app).delete(`/api/upload/${publicId}`).set('Authorization', customer.bearer);
    expect(stranger.status).toBe(404);
    expect(stub.assets.has(publicId)).toBe(true);

    const before = stub.requests.length;
    const res = await request(app).delete(`/api/upload/${publicId}`).set('Authorization', seller.bearer);
    expect(res.status).toBe(200);
    const call = stub.requests[before];
    expect(call).toMatchObject({ path: '/v1_1/marketplace-test/image/destroy', status: 200 });
    expect(call.params.public_id).toBe(publicId);
    expect(stub.assets.has(publicId)).toBe(false);
    expect(await Upload.findByPublicId(publicId)).toBeNull();
  });

  it('keeps the record when Cloudinary refuses the deletion, and answers 502', async () => {
    const { publicId } = (await request(app).post('/api/upload/image').set('Authorization', seller.bearer).attach('image', IMAGES.png, 'a.png')).body.data;
    await stub.stop();
    try {
      const res = await request(app).delete(`/api/upload/${publicId}`).set('Authorization', seller.bearer);
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('STORAGE_PROVIDER_ERROR');
      expect(await Upload.findByPublicId(publicId)).not.toBeNull();
    } finally {
      // Same port again, so the configured upload prefix still points at the stub.
      await stub.start(Number(new URL(stub.url).port));
    }
    const retry = await request(app).delete(`/api/upload/${publicId}`).set('Authorization', seller.bearer);
    expect(retry.status).toBe(200);
  });

  describe('the stand-in checks signatures as Cloudinary does', () => {
    const agent = new http.Agent();
    const options = () => ({ cloud_name: stub.credentials.cloudName, api_key: stub.credentials.apiKey, upload_prefix: stub.url, agent });

    it('refuses an upload signed with another secret', async () => {
      const dataUri = `data:image/png;base64,${IMAGES.png.toString('base64')}`;
      await expect(cloudinary.uploader.upload(dataUri, { ...options(), api_secret: 'not-the-secret' })).rejects.toMatchObject({ http_code: 401 });
      expect(stub.requests.at(-1)).toMatchObject({ status: 401, error: expect.stringMatching(/Invalid Signature/) });
      await expect(cloudinary.uploader.upload(dataUri, { ...options(), api_secret: stub.credentials.apiSecret })).resolves.toMatchObject({ format: 'png', width: 1 });
    });

    it('refuses a request whose parameters were changed after signing', async () => {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signed = { public_id: 'original', timestamp };
      const form = new URLSearchParams({
        ...signed,
        public_id: 'tampered',
        api_key: stub.credentials.apiKey,
        signature: cloudinarySignature(signed, stub.credentials.apiSecret),
      });
      const tampered = await fetch(`${stub.url}/v1_1/${stub.credentials.cloudName}/image/destroy`, { method: 'POST', body: form });
      expect(tampered.status).toBe(401);
      form.set('public_id', 'original');
      const genuine = await fetch(`${stub.url}/v1_1/${stub.credentials.cloudName}/image/destroy`, { method: 'POST', body: form });
      expect(genuine.status).toBe(200);
      expect(await genuine.json()).toEqual({ result: 'not found' });
    });
  });
});

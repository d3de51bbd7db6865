import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import request from 'supertest';
import { config } from '../../src/platform/config';
import { getSequelize } from '../../src/platform/db';
import { uploadTempDir } from '../../src/modules/catalog/upload.middleware';
import { Upload } from '../../src/models';
import { buildUpload, createUpload } from '../fixtures';
import { useTestApp } from '../support/app';
import { signedInUser, type SignedIn } from '../support/auth';
import { productBody, signedInSeller } from '../support/catalog';
import { gifClaimingFrames, IMAGES, jpegHeaderWithRandomBody, paddedPng, pngHeaderClaiming, TEXT_FILE } from '../support/images';

const uploadDir = (): string => path.join(config.dataDir, 'uploads');

function storedFiles(): string[] {
  return fs.existsSync(uploadDir()) ? fs.readdirSync(uploadDir()).sort() : [];
}

function uploadsOf(userId: string): Promise<Upload[]> {
  return Upload.findAll({ where: { uploaderId: userId } });
}

function tempFiles(): string[] {
  return fs.existsSync(uploadTempDir()) ? fs.readdirSync(uploadTempDir()).sort() : [];
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Temporary files go when the response is over (its 'close'), a moment after the client has it. */
const noTempFilesLeft = () => waitFor(() => tempFiles().length === 0, 'the temporary files to be removed');

/** A multipart body with one file part, written by hand so that a test can send it in pieces. */
function multipartOf(field: string, file: Buffer): { contentType: string; head: Buffer; file: Buffer; tail: Buffer } {
  const boundary = `----test${Date.now().toString(16)}`;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    head: Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`),
    file,
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
  };
}

describe('uploads (local storage)', () => {
  const ctx = useTestApp();
  let customer: SignedIn;
  let seller: SignedIn;
  let admin: SignedIn;

  beforeAll(async () => {
    customer = await signedInUser(ctx.app);
    seller = await signedInUser(ctx.app, { role: 'seller' });
    admin = await signedInUser(ctx.app, { role: 'admin' });
  });

  const uploadOne = (who: SignedIn, file: Buffer, name = 'photo.png', contentType?: string) =>
    request(ctx.app)
      .post('/api/upload/image')
      .set('Authorization', who.bearer)
      .attach('image', file, contentType ? { filename: name, contentType } : name);

  it('stores an image under a generated name, records it, and serves the same bytes at its url', async () => {
    const res = await uploadOne(customer, IMAGES.png, '../../etc/passwd.png');
    expect(res.status).toBe(201);
    expect(res.body.success).toBe(true);
    const image = res.body.data;
    expect(image).toEqual({ url: expect.any(String), publicId: expect.any(String), width: 1, height: 1, format: 'png', bytes: IMAGES.png.length });
    expect(image.publicId).toMatch(/^[0-9a-f]{32}\.png$/);
    expect(image.url).toBe(`${config.appUrl}/uploads/${image.publicId}`);

    expect(fs.readFileSync(path.join(uploadDir(), image.publicId))).toEqual(IMAGES.png);
    const served = await request(ctx.app).get(`/uploads/${image.publicId}`).buffer(true);
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(Buffer.from(served.body)).toEqual(IMAGES.png);

    const row = await Upload.findByPublicId(image.publicId);
    expect(row).toMatchObject({ provider: 'local', uploaderId: customer.user.id, bytes: IMAGES.png.length, width: 1, height: 1, format: 'png', url: image.url });
  });

  it.each([
    ['jpeg', IMAGES.jpeg, 'jpg'],
    ['gif', IMAGES.gif, 'gif'],
    ['webp', IMAGES.webp, 'webp'],
  ] as const)('detects %s from the content, whatever the name and MIME type say', async (format, bytes, extension) => {
    const res = await uploadOne(customer, bytes, 'misleading.png', 'text/plain');
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ format, width: 1, height: 1, bytes: bytes.length });
    expect(res.body.data.publicId).toMatch(new RegExp(`\\.${extension}$`));
  });

  it('refuses a text file named notes.jpg with 400 INVALID_FILE_TYPE and stores nothing', async () => {
    const before = storedFiles();
    const rowsBefore = (await uploadsOf(customer.user.id)).length;
    const res = await uploadOne(customer, TEXT_FILE, 'notes.jpg', 'image/jpeg');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_FILE_TYPE');
    expect(storedFiles()).toEqual(before);
    expect(await uploadsOf(customer.user.id)).toHaveLength(rowsBefore);
  });

  it('refuses an image signature followed by garbage, and formats that are not accepted', async () => {
    const signatureOnly = Buffer.concat([IMAGES.png.subarray(0, 8), Buffer.alloc(200, 0x41)]);
    const garbage = await uploadOne(customer, signatureOnly, 'broken.png');
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('INVALID_FILE_TYPE');
    const svg = await uploadOne(customer, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'x.svg', 'image/svg+xml');
    expect(svg.status).toBe(400);
    expect(svg.body.error.code).toBe('INVALID_FILE_TYPE');
  });

  it('refuses a 45-byte PNG header claiming 2147483647² pixels with 400 IMAGE_TOO_LARGE, before any decoder sees it', async () => {
    const before = storedFiles();
    const bomb = pngHeaderClaiming(2147483647, 2147483647);
    expect(bomb.length).toBe(45);
    const res = await uploadOne(customer, bomb, 'bomb.png');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('IMAGE_TOO_LARGE');
    expect(storedFiles()).toEqual(before);
  });

  it('refuses a 5 MB random blob behind a valid JPEG header with 400 INVALID_FILE_TYPE: the whole image is decoded', async () => {
    const before = storedFiles();
    const rowsBefore = (await uploadsOf(customer.user.id)).length;
    const blob = jpegHeaderWithRandomBody(config.uploadMaxBytes);
    const res = await uploadOne(customer, blob, 'photo.jpg', 'image/jpeg');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_FILE_TYPE');
    expect(storedFiles()).toEqual(before);
    expect(await uploadsOf(customer.user.id)).toHaveLength(rowsBefore);
  });

  it('refuses a truncated image', async () => {
    const real = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer();
    const res = await uploadOne(customer, real.subarray(0, real.length - 200), 'cut.png');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_FILE_TYPE');
    expect((await uploadOne(customer, real, 'whole.png')).status).toBe(201);
  });

  it('accepts a real image of UPLOAD_MAX_PIXELS and refuses one pixel row more with 400 IMAGE_TOO_LARGE', async () => {
    expect(config.uploadMaxPixels).toBe(40_000_000);
    const image = (width: number, height: number) =>
      sharp({ create: { width, height, channels: 3, background: '#3a7bd5' } })
        .png({ compressionLevel: 9 })
        .toBuffer();
    const atLimit = await uploadOne(customer, await image(8000, 5000), 'wide.png');
    expect(atLimit.status).toBe(201);
    expect(atLimit.body.data).toMatchObject({ width: 8000, height: 5000, format: 'png' });
    const over = await uploadOne(customer, await image(8000, 5001), 'wider.png');
    expect(over.status).toBe(400);
    expect(over.body.error.code).toBe('IMAGE_TOO_LARGE');
  });

  it('counts every frame of an animation against UPLOAD_MAX_PIXELS', async () => {
    // 2000 × 2000 per frame: 10 frames are 40 megapixels, 11 are over.
    const ten = await uploadOne(customer, gifClaimingFrames(2000, 2000, 10), 'ten.gif');
    expect(ten.status).toBe(201);
    expect(ten.body.data).toMatchObject({ format: 'gif', width: 2000, height: 2000 });
    const eleven = await uploadOne(customer, gifClaimingFrames(2000, 2000, 11), 'eleven.gif');
    expect(eleven.status).toBe(400);
    expect(eleven.body.error.code).toBe('IMAGE_TOO_LARGE');
  });

  it('serves uploaded files to storefronts on other origins (Cross-Origin-Resource-Policy: cross-origin), the API stays same-origin', async () => {
    const { publicId } = (await uploadOne(customer, IMAGES.webp, 'shop.webp')).body.data;
    const served = await request(ctx.app).get(`/uploads/${publicId}`).set('Origin', 'http://other-shop.test');
    expect(served.status).toBe(200);
    expect(served.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    const api = await request(ctx.app).get('/api/categories');
    expect(api.headers['cross-origin-resource-policy']).toBe('same-origin');
  });

  describe('files stream to disk, never whole in memory', () => {
    it('writes a file to a temporary file under DATA_DIR while its body arrives, and removes it after', async () => {
      const server = http.createServer(ctx.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const body = multipartOf('image', paddedPng(4 * 1024 * 1024));
        const firstPart = 3 * 1024 * 1024;
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/upload/image',
          headers: {
            Authorization: customer.bearer,
            'Content-Type': body.contentType,
            'Content-Length': body.head.length + body.file.length + body.tail.length,
          },
        });
        const response = new Promise<{ status: number; body: { data: { publicId: string; bytes: number } } }>((resolve, reject) => {
          req.on('response', (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
          });
          req.on('error', reject);
        });
        req.write(body.head);
        req.write(body.file.subarray(0, firstPart));

        // Mid-request, the bytes received so far are in a file under DATA_DIR, not in the process.
        expect(uploadTempDir().startsWith(config.dataDir)).toBe(true);
        const growing = () => tempFiles().filter((name) => fs.statSync(path.join(uploadTempDir(), name)).size >= 2 * 1024 * 1024);
        await waitFor(() => growing().length === 1, 'the first 2 MB to reach a temporary file');

        req.end(Buffer.concat([body.file.subarray(firstPart), body.tail]));
        const res = await response;
        expect(res.status).toBe(201);
        expect(res.body.data.bytes).toBe(body.file.length);
        // Buffer.equals: jest's deep equality walks 4 MB byte by byte for seconds.
        expect(fs.readFileSync(path.join(uploadDir(), res.body.data.publicId)).equals(body.file)).toBe(true);
        await noTempFilesLeft();
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('takes parallel requests of several big files, each file on disk, and leaves no temporary file', async () => {
      const files = Array.from({ length: 3 }, (_, index) => paddedPng(4 * 1024 * 1024 + index));
      let mostOnDisk = 0;
      const watcher = setInterval(() => {
        mostOnDisk = Math.max(mostOnDisk, tempFiles().length);
      }, 5);
      try {
        const responses = await Promise.all(
          Array.from({ length: 4 }, () => {
            const req = request(ctx.app).post('/api/upload/images').set('Authorization', seller.bearer);
            files.forEach((file, index) => req.attach('images', file, `big-${index}.png`));
            return req;
          }),
        );
        for (const res of responses) {
          expect(res.status).toBe(201);
          expect(res.body.data.images.map((image: { bytes: number }) => image.bytes)).toEqual(files.map((file) => file.length));
        }
      } finally {
        clearInterval(watcher);
      }
      expect(mostOnDisk).toBeGreaterThan(0);
      await noTempFilesLeft();
    });

    it('removes the temporary files of refused and abandoned uploads', async () => {
      expect((await uploadOne(customer, TEXT_FILE, 'notes.png')).status).toBe(400);
      await noTempFilesLeft();
      expect((await uploadOne(customer, paddedPng(6 * 1024 * 1024), 'huge.png')).status).toBe(413);
      await noTempFilesLeft();

      // A client that goes away mid-body.
      const server = http.createServer(ctx.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const body = multipartOf('image', paddedPng(4 * 1024 * 1024));
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/upload/image',
          headers: { Authorization: customer.bearer, 'Content-Type': body.contentType, 'Content-Length': body.head.length + body.file.length + body.tail.length },
        });
        req.on('error', () => undefined);
        req.write(body.head);
        req.write(body.file.subarray(0, 1024 * 1024));
        await waitFor(() => tempFiles().length === 1, 'a temporary file');
        req.destroy();
        await noTempFilesLeft();
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe('hourly limit per user (UPLOAD_MAX_PER_HOUR)', () => {
    const recordUploads = (userId: string, count: number) =>
      Upload.bulkCreate(Array.from({ length: count }, () => buildUpload({ uploaderId: userId })));

    it('answers 429 with Retry-After past the limit, before reading the body; uploads older than an hour do not count', async () => {
      expect(config.uploadMaxPerHour).toBe(100);
      const user = await signedInUser(ctx.app);
      const [oldest] = await recordUploads(user.user.id, 99);
      expect((await uploadOne(user, IMAGES.png)).status).toBe(201);

      const before = storedFiles();
      const refused = await uploadOne(user, IMAGES.png);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
      expect(refused.headers['ratelimit-limit']).toBe('100');
      expect(refused.headers['ratelimit-remaining']).toBe('0');
      expect(storedFiles()).toEqual(before);
      expect(tempFiles()).toEqual([]);
      expect(await uploadsOf(user.user.id)).toHaveLength(100);

      // Another user is not limited by this one.
      expect((await uploadOne(customer, IMAGES.png)).status).toBe(201);

      await getSequelize().query(`UPDATE uploads SET created_at = now() - interval '61 minutes' WHERE id = $id`, { bind: { id: oldest.id } });
      expect((await uploadOne(user, IMAGES.png)).status).toBe(201);
      expect((await uploadOne(user, IMAGES.png)).status).toBe(429);
    });

    it('counts every file of a request, and stores none of a request that would pass the limit', async () => {
      const many = await signedInUser(ctx.app, { role: 'seller' });
      await recordUploads(many.user.id, 95);
      const send = (count: number) => {
        const req = request(ctx.app).post('/api/upload/images').set('Authorization', many.bearer);
        for (let i = 0; i < count; i += 1) req.attach('images', IMAGES.gif, `${i}.gif`);
        return req;
      };
      const before = storedFiles();
      const six = await send(6);
      expect(six.status).toBe(429);
      expect(storedFiles()).toEqual(before);
      expect(await uploadsOf(many.user.id)).toHaveLength(95);
      expect((await send(5)).status).toBe(201);
      expect(await uploadsOf(many.user.id)).toHaveLength(100);
    });

    it('holds under parallel requests: of five uploads with room for two, two are stored', async () => {
      const racer = await signedInUser(ctx.app);
      await recordUploads(racer.user.id, 98);
      const statuses = (await Promise.all(Array.from({ length: 5 }, () => uploadOne(racer, IMAGES.png)))).map((res) => res.status).sort();
      expect(statuses).toEqual([201, 201, 429, 429, 429]);
      expect(await uploadsOf(racer.user.id)).toHaveLength(100);
      await noTempFilesLeft();
    });
  });

  it('answers 413 FILE_TOO_LARGE for a 6 MB image and stores nothing', async () => {
    expect(config.uploadMaxBytes).toBe(5 * 1024 * 1024);
    const before = storedFiles();
    const res = await uploadOne(customer, paddedPng(6 * 1024 * 1024), 'huge.png');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('FILE_TOO_LARGE');
    expect(storedFiles()).toEqual(before);
  });

  it('accepts a file of exactly the size limit', async () => {
    const res = await uploadOne(customer, paddedPng(config.uploadMaxBytes), 'limit.png');
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ format: 'png', bytes: config.uploadMaxBytes });
  });

  it('answers 400 NO_FILE without a file', async () => {
    const empty = await request(ctx.app).post('/api/upload/image').set('Authorization', customer.bearer);
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('NO_FILE');
    const emptyForm = await request(ctx.app)
      .post('/api/upload/image')
      .set('Authorization', customer.bearer)
      .set('Content-Type', 'multipart/form-data; boundary=xyz')
      .send('--xyz--\r\n');
    expect(emptyForm.status).toBe(400);
    expect(emptyForm.body.error.code).toBe('NO_FILE');
  });

  it('answers 400 UNEXPECTED_FIELD for a file or a text part under another name', async () => {
    const wrongField = await request(ctx.app).post('/api/upload/image').set('Authorization', customer.bearer).attach('file', IMAGES.png, 'a.png');
    expect(wrongField.status).toBe(400);
    expect(wrongField.body.error.code).toBe('UNEXPECTED_FIELD');
    expect(wrongField.body.error.details).toEqual([{ field: 'file', message: expect.any(String) }]);
    const extraText = await request(ctx.app)
      .post('/api/upload/image')
      .set('Authorization', customer.bearer)
      .field('folder', '../../secret')
      .attach('image', IMAGES.png, 'a.png');
    expect(extraText.status).toBe(400);
    expect(extraText.body.error.code).toBe('UNEXPECTED_FIELD');
  });

  it('answers 400 TOO_MANY_FILES for two files on /image', async () => {
    const res = await request(ctx.app)
      .post('/api/upload/image')
      .set('Authorization', customer.bearer)
      .attach('image', IMAGES.png, 'a.png')
      .attach('image', IMAGES.gif, 'b.gif');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('TOO_MANY_FILES');
  });

  it('answers 400 INVALID_MULTIPART for a malformed multipart body', async () => {
    const res = await request(ctx.app)
      .post('/api/upload/image')
      .set('Authorization', customer.bearer)
      .set('Content-Type', 'multipart/form-data')
      .send('no boundary here');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_MULTIPART');
  });

  it('needs a signed-in user', async () => {
    const res = await request(ctx.app).post('/api/upload/image').attach('image', IMAGES.png, 'a.png');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('NO_TOKEN');
  });

  describe('POST /api/upload/images', () => {
    const uploadMany = (who: SignedIn, files: Buffer[]) => {
      const req = request(ctx.app).post('/api/upload/images').set('Authorization', who.bearer);
      files.forEach((file, index) => req.attach('images', file, `file-${index}.bin`));
      return req;
    };

    it('stores up to ten images of a seller at once', async () => {
      const res = await uploadMany(seller, [IMAGES.png, IMAGES.jpeg, IMAGES.gif, IMAGES.webp]);
      expect(res.status).toBe(201);
      expect(res.body.data.images.map((image: { format: string }) => image.format)).toEqual(['png', 'jpeg', 'gif', 'webp']);
      for (const image of res.body.data.images) {
        expect(fs.existsSync(path.join(uploadDir(), image.publicId))).toBe(true);
      }
      const ten = await uploadMany(admin, Array.from({ length: 10 }, () => IMAGES.gif));
      expect(ten.status).toBe(201);
      expect(ten.body.data.images).toHaveLength(10);
    });

    it('answers 400 TOO_MANY_FILES for eleven files and stores nothing', async () => {
      const before = storedFiles();
      const res = await uploadMany(seller, Array.from({ length: 11 }, () => IMAGES.png));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('TOO_MANY_FILES');
      expect(storedFiles()).toEqual(before);
    });

    it('stores none of the files when one of them is not an image', async () => {
      const before = storedFiles();
      const rowsBefore = (await uploadsOf(seller.user.id)).length;
      const res = await uploadMany(seller, [IMAGES.png, TEXT_FILE, IMAGES.gif]);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_FILE_TYPE');
      expect(res.body.error.details).toEqual([{ field: 'images[1]', message: expect.any(String) }]);
      expect(storedFiles()).toEqual(before);
      expect(await uploadsOf(seller.user.id)).toHaveLength(rowsBefore);
    });

    it('refuses customers with 403, before reading the files', async () => {
      const res = await uploadMany(customer, [IMAGES.png]);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('INSUFFICIENT_PERMISSIONS');
    });

    it('answers 400 NO_FILE without files', async () => {
      const res = await request(ctx.app).post('/api/upload/images').set('Authorization', seller.bearer);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('NO_FILE');
    });
  });

  describe('DELETE /api/upload/:publicId', () => {
    it('lets the uploader delete their image: the file and the record go', async () => {
      const { publicId } = (await uploadOne(customer, IMAGES.png)).body.data;
      const res = await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', customer.bearer);
      expect(res.status).toBe(200);
      expect(res.body.success).toBe(true);
      expect(fs.existsSync(path.join(uploadDir(), publicId))).toBe(false);
      expect(await Upload.findByPublicId(publicId)).toBeNull();
      expect((await request(ctx.app).get(`/uploads/${publicId}`)).status).toBe(404);
      const again = await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', customer.bearer);
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('UPLOAD_NOT_FOUND');
    });

    it("answers 404 for someone else's upload and leaves the file and the record in place", async () => {
      const { publicId } = (await uploadOne(customer, IMAGES.jpeg, 'mine.jpg')).body.data;
      const other = await signedInUser(ctx.app);
      for (const who of [other, seller]) {
        const res = await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', who.bearer);
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe('UPLOAD_NOT_FOUND');
      }
      expect(fs.readFileSync(path.join(uploadDir(), publicId))).toEqual(IMAGES.jpeg);
      expect(await Upload.findByPublicId(publicId)).not.toBeNull();
    });

    it("lets an admin delete anyone's upload", async () => {
      const { publicId } = (await uploadOne(customer, IMAGES.gif, 'a.gif')).body.data;
      const res = await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', admin.bearer);
      expect(res.status).toBe(200);
      expect(fs.existsSync(path.join(uploadDir(), publicId))).toBe(false);
    });

    it('answers 404 for ids that could name another path, without touching the disk', async () => {
      const outside = path.join(config.dataDir, 'keep-me.txt');
      fs.mkdirSync(config.dataDir, { recursive: true });
      fs.writeFileSync(outside, 'keep');
      await createUpload({ publicId: '..', uploaderId: admin.user.id });
      for (const id of ['..', '..%2Fkeep-me.txt', '%2E%2E%2Fkeep-me.txt', 'a.b.c', '.hidden', 'x%00.png']) {
        const res = await request(ctx.app).delete(`/api/upload/${id}`).set('Authorization', admin.bearer);
        expect(res.status).toBe(404);
      }
      expect(fs.readFileSync(outside, 'utf8')).toBe('keep');
      expect(await Upload.findByPublicId('..')).not.toBeNull();
    });

    it('refuses to delete an image that a product still shows (409 UPLOAD_IN_USE), and deletes it once none does', async () => {
      const shop = await signedInSeller(ctx.app);
      const { publicId, url } = (await uploadOne(shop, IMAGES.png, 'product.png')).body.data;
      const created = await request(ctx.app).post('/api/products').set('Authorization', shop.bearer).send(productBody({ images: [url] }));
      expect(created.status).toBe(201);

      const refused = await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', shop.bearer);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('UPLOAD_IN_USE');
      expect(refused.body.error.details).toEqual([{ productCount: 1, productIds: [created.body.data.id] }]);
      const byAdmin = await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', admin.bearer);
      expect(byAdmin.status).toBe(409);
      expect(fs.existsSync(path.join(uploadDir(), publicId))).toBe(true);
      expect(await Upload.findByPublicId(publicId)).not.toBeNull();
      expect((await request(ctx.app).get(`/uploads/${publicId}`)).status).toBe(200);

      const changed = await request(ctx.app).patch(`/api/products/${created.body.data.id}`).set('Authorization', shop.bearer).send({ images: [] });
      expect(changed.status).toBe(200);
      const deleted = await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', shop.bearer);
      expect(deleted.status).toBe(200);
      expect(fs.existsSync(path.join(uploadDir(), publicId))).toBe(false);
    });

    it("counts a variant's images as the product's", async () => {
      const shop = await signedInSeller(ctx.app);
      const { publicId, url } = (await uploadOne(shop, IMAGES.png, 'variant.png')).body.data;
      const created = await request(ctx.app)
        .post('/api/products')
        .set('Authorization', shop.bearer)
        .send({ name: 'Canvas Tote', options: [{ name: 'Color', values: ['Sand'] }], variants: [{ sku: `TOTE-${publicId.slice(0, 8)}`, options: { Color: 'Sand' }, price: '15.00', images: [url] }] });
      expect(created.status).toBe(201);
      const refused = await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', shop.bearer);
      expect([refused.status, refused.body.error.details]).toEqual([409, [{ productCount: 1, productIds: [created.body.data.id] }]]);
      const variantId = created.body.data.variants[0].id;
      expect((await request(ctx.app).patch(`/api/products/${created.body.data.id}/variants/${variantId}`).set('Authorization', shop.bearer).send({ images: [] })).status).toBe(200);
      expect((await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', shop.bearer)).status).toBe(200);
    });

    it('lets a deleted product release its images', async () => {
      const shop = await signedInSeller(ctx.app);
      const { publicId, url } = (await uploadOne(shop, IMAGES.gif, 'product.gif')).body.data;
      const created = await request(ctx.app).post('/api/products').set('Authorization', shop.bearer).send(productBody({ images: [url] }));
      expect((await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', shop.bearer)).status).toBe(409);
      expect((await request(ctx.app).delete(`/api/products/${created.body.data.id}`).set('Authorization', shop.bearer)).status).toBe(200);
      expect((await request(ctx.app).delete(`/api/upload/${publicId}`).set('Authorization', shop.bearer)).status).toBe(200);
    });

    it('deletes a record whose name the local store never generates without touching the file of that name', async () => {
      fs.mkdirSync(uploadDir(), { recursive: true });
      fs.writeFileSync(path.join(uploadDir(), 'keep-me.txt'), 'keep');
      await createUpload({ publicId: 'keep-me.txt', uploaderId: admin.user.id });
      const res = await request(ctx.app).delete('/api/upload/keep-me.txt').set('Authorization', admin.bearer);
      expect(res.status).toBe(200);
      expect(await Upload.findByPublicId('keep-me.txt')).toBeNull();
      expect(fs.readFileSync(path.join(uploadDir(), 'keep-me.txt'), 'utf8')).toBe('keep');
    });
  });

  it('documents the multipart routes in the OpenAPI document', async () => {
    const doc = await request(ctx.app).get('/api/openapi.json');
    const many = doc.body.paths['/api/upload/images'].post;
    expect(many.requestBody.content['multipart/form-data'].schema.properties.images).toMatchObject({ type: 'array', maxItems: 10 });
    expect(doc.body.paths['/api/upload/image'].post.requestBody.content['multipart/form-data'].schema.properties.image).toMatchObject({ format: 'binary' });
    expect(doc.body.paths['/api/upload/{publicId}'].delete).toBeDefined();
  });
});

import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { config } from '../../src/config';
import { Upload } from '../../src/models';
import { createUpload } from '../fixtures';
import { useTestApp } from '../support/app';
import { signedInUser, type SignedIn } from '../support/auth';
import { IMAGES, paddedPng, TEXT_FILE } from '../support/images';

const uploadDir = (): string => path.join(config.dataDir, 'uploads');

function storedFiles(): string[] {
  return fs.existsSync(uploadDir()) ? fs.readdirSync(uploadDir()).sort() : [];
}

function uploadsOf(userId: string): Promise<Upload[]> {
  return Upload.findAll({ where: { uploaderId: userId } });
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

import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { imageSize } from 'image-size';

export interface CloudinaryStubCredentials {
  cloudName: string;
  apiKey: string;
  apiSecret: string;
}

export interface StubAsset {
  publicId: string;
  format: string;
  width: number;
  height: number;
  bytes: Buffer;
  version: number;
}

export interface StubRequest {
  path: string;
  params: Record<string, string>;
  status: number;
  error?: string;
}

/** Parameters Cloudinary leaves out of the string it signs. */
const UNSIGNED = new Set(['file', 'api_key', 'resource_type', 'cloud_name', 'signature']);
const MAX_CLOCK_SKEW_SECONDS = 3600;

/**
 * Cloudinary's signature, computed here from its documented rule rather than by the SDK: the
 * sha1 of the non-empty parameters sorted by name as `key=value` joined by '&' (a '&' inside a
 * value escaped as %26, as signature version 2 does), followed by the API secret.
 */
export function cloudinarySignature(params: Record<string, string>, apiSecret: string): string {
  const toSign = Object.entries(params)
    .filter(([key, value]) => !UNSIGNED.has(key) && value !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`.replace(/&/g, '%26'))
    .join('&');
  return createHash('sha1').update(toSign + apiSecret).digest('hex');
}

class StubError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The form fields of a multipart or urlencoded body, the file as bytes. */
async function readForm(req: http.IncomingMessage): Promise<{ params: Record<string, string>; file?: Buffer }> {
  const body = await readBody(req);
  const contentType = req.headers['content-type'] ?? '';
  const params: Record<string, string> = {};
  let file: Buffer | undefined;
  if (contentType.startsWith('multipart/form-data')) {
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') params[key] = value;
      else if (key === 'file') file = Buffer.from(await value.arrayBuffer());
    }
  } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params[key] = value;
  } else {
    throw new StubError(400, `Unsupported content type ${contentType}`);
  }
  if (!file && params.file?.startsWith('data:')) {
    file = Buffer.from(params.file.slice(params.file.indexOf(',') + 1), 'base64');
  }
  return { params, file };
}

/**
 * A local stand-in for Cloudinary's upload API (node:http), for the real SDK to talk to:
 * `POST /v1_1/<cloud>/image/upload` and `/image/destroy`, signed requests checked like Cloudinary
 * does (401 otherwise), answers shaped like Cloudinary's, and the stored files served back at
 * their `secure_url`.
 */
export class CloudinaryStub {
  readonly assets = new Map<string, StubAsset>();
  /** Every API call, in order, with the answer's status. */
  readonly requests: StubRequest[] = [];
  private server?: http.Server;
  url = '';

  constructor(readonly credentials: CloudinaryStubCredentials) {}

  /** Listens on 127.0.0.1 (a random port unless given) and returns the base URL. */
  async start(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        const status = error instanceof StubError ? error.status : 500;
        const message = error instanceof Error ? error.message : String(error);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message } }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.url).pathname;
    const { cloudName } = this.credentials;

    const served = new RegExp(`^/${cloudName}/image/upload/v\\d+/([^/]+)\\.([a-z]+)$`).exec(path);
    if (req.method === 'GET' && served) {
      const asset = this.assets.get(served[1]);
      if (!asset || asset.format !== served[2]) throw new StubError(404, 'Resource not found');
      res.writeHead(200, { 'content-type': `image/${asset.format === 'jpg' ? 'jpeg' : asset.format}` });
      res.end(asset.bytes);
      return;
    }

    const api = /^\/v1_1\/([^/]+)\/image\/(upload|destroy)$/.exec(path);
    if (req.method !== 'POST' || !api) throw new StubError(404, `No route ${req.method} ${path}`);
    const { params, file } = await readForm(req);
    const record: StubRequest = { path, params, status: 200 };
    this.requests.push(record);
    try {
      if (api[1] !== cloudName) throw new StubError(401, `Invalid cloud_name ${api[1]}`);
      this.checkSignature(params);
      const answer = api[2] === 'upload' ? this.upload(params, file) : this.destroy(params);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    } catch (error) {
      record.status = error instanceof StubError ? error.status : 500;
      record.error = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  private checkSignature(params: Record<string, string>): void {
    if (params.api_key !== this.credentials.apiKey) throw new StubError(401, `Unknown API key ${params.api_key ?? ''}`);
    if (!params.signature) throw new StubError(401, 'Missing required parameter - signature');
    const timestamp = Number(params.timestamp);
    if (!Number.isInteger(timestamp)) throw new StubError(400, 'Missing required parameter - timestamp');
    if (Math.abs(Date.now() / 1000 - timestamp) > MAX_CLOCK_SKEW_SECONDS) throw new StubError(400, 'Stale request');
    const expected = cloudinarySignature(params, this.credentials.apiSecret);
    if (params.signature !== expected) throw new StubError(401, `Invalid Signature ${params.signature}`);
  }

  private upload(params: Record<string, string>, file: Buffer | undefined): Record<string, unknown> {
    if (!file || file.length === 0) throw new StubError(400, 'Missing required parameter - file');
    let size: ReturnType<typeof imageSize>;
    try {
      size = imageSize(new Uint8Array(file));
    } catch {
      throw new StubError(400, 'Invalid image file');
    }
    if (!size.type) throw new StubError(400, 'Invalid image file');
    const publicId = params.public_id || randomBytes(10).toString('hex');
    const existing = this.assets.get(publicId);
    if (existing && params.overwrite === 'false') return { ...this.describe(existing), existing: true };
    const asset: StubAsset = { publicId, format: size.type, width: size.width, height: size.height, bytes: file, version: Math.floor(Date.now() / 1000) };
    this.assets.set(publicId, asset);
    return this.describe(asset);
  }

  private destroy(params: Record<string, string>): Record<string, unknown> {
    if (!params.public_id) throw new StubError(400, 'Missing required parameter - public_id');
    return { result: this.assets.delete(params.public_id) ? 'ok' : 'not found' };
  }

  private describe(asset: StubAsset): Record<string, unknown> {
    const path = `/${this.credentials.cloudName}/image/upload/v${asset.version}/${asset.publicId}.${asset.format}`;
    return {
      asset_id: createHash('md5').update(asset.publicId).digest('hex'),
      public_id: asset.publicId,
      version: asset.version,
      signature: createHash('sha1').update(asset.bytes).digest('hex'),
      width: asset.width,
      height: asset.height,
      format: asset.format,
      resource_type: 'image',
      created_at: new Date(asset.version * 1000).toISOString(),
      bytes: asset.bytes.length,
      type: 'upload',
      url: `${this.url}${path}`,
      secure_url: `${this.url}${path}`,
    };
  }
}

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { v2 as cloudinary, type UploadApiErrorResponse, type UploadApiResponse } from 'cloudinary';
import type { AppConfig } from '../config';
import { UpstreamError } from '../utils/errors';
import { logger } from '../utils/logger';
import type { ImageFormat } from '../utils/image-type';
import type { ImageStorage, StoredImage } from './types';

type CloudinarySettings = NonNullable<AppConfig['cloudinary']>;

const TIMEOUT_MS = 30_000;

function providerError(action: string, error: unknown): UpstreamError {
  const cause = error as Partial<UploadApiErrorResponse> | undefined;
  logger.warn('cloudinary request failed', { action, httpCode: cause?.http_code, error: cause?.message ?? String(error) });
  return new UpstreamError('STORAGE_PROVIDER_ERROR', 'The image store is not answering; nothing was changed, please retry');
}

/** Images on Cloudinary, through its SDK (signed requests with the API secret). */
export class CloudinaryImageStorage implements ImageStorage {
  readonly kind = 'cloudinary' as const;
  private readonly requestOptions: { timeout: number; agent?: http.Agent };

  constructor(settings: CloudinarySettings) {
    cloudinary.config({
      cloud_name: settings.cloudName,
      api_key: settings.apiKey,
      api_secret: settings.apiSecret,
      secure: true,
      ...(settings.uploadPrefix ? { upload_prefix: settings.uploadPrefix } : {}),
    });
    // The SDK chooses between node:https and node:http once, when it is loaded, from CLOUDINARY_URL.
    // A plain-http upload prefix given here (a local stand-in of the API) needs a plain-http agent,
    // or Node refuses the protocol.
    const plainHttp = settings.uploadPrefix?.startsWith('http:') ?? false;
    this.requestOptions = { timeout: TIMEOUT_MS, ...(plainHttp ? { agent: new http.Agent({ keepAlive: false }) } : {}) };
  }

  save(file: { path: string; format: ImageFormat }): Promise<StoredImage> {
    // Our own random id, with no folder: it stays one URL path segment and cannot collide with another.
    const publicId = randomBytes(16).toString('hex');
    return new Promise((resolve, reject) => {
      const upload = cloudinary.uploader.upload_stream(
        { ...this.requestOptions, public_id: publicId, resource_type: 'image', overwrite: false, unique_filename: false },
        (error?: UploadApiErrorResponse, result?: UploadApiResponse) => {
          if (error || !result?.secure_url) reject(providerError('upload', error ?? result));
          else resolve({ url: result.secure_url, publicId: result.public_id });
        },
      );
      // Streamed from the temporary file: the file is never whole in memory.
      const source = fs.createReadStream(file.path);
      // A temporary file that cannot be read is our failure, not the provider's: a 500, not a 502.
      source.once('error', (error) => {
        upload.destroy();
        reject(error);
      });
      source.pipe(upload);
    });
  }

  async remove(publicId: string): Promise<void> {
    let result: { result?: string } | undefined;
    try {
      result = (await cloudinary.uploader.destroy(publicId, { ...this.requestOptions, resource_type: 'image', invalidate: true })) as { result?: string };
    } catch (error) {
      throw providerError('destroy', error);
    }
    if (result?.result !== 'ok' && result?.result !== 'not found') throw providerError('destroy', result);
  }
}

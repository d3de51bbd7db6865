import type { Transaction } from 'sequelize';
import { config } from '../../platform/config';
import { imageStorage, storageFor, type StoredImage } from '../../platform/storage';
import { Upload } from '../../models';
import type { UserRole } from '../../models/enums';
import { getSequelize } from '../../platform/db';
import { queryRows } from '../../platform/db/query';
import { AppError, BadRequestError, ConflictError, NotFoundError } from '../../platform/utils/errors';
import { checkImageFile, type ImageInfo } from '../../platform/utils/image-type';
import { logger } from '../../platform/utils/logger';

export interface UploadView {
  url: string;
  publicId: string;
  width: number | null;
  height: number | null;
  format: string;
  bytes: number;
}

export interface UploadActor {
  id: string;
  role: UserRole;
}

/** A received file waiting on disk (see middleware/upload.middleware.ts). */
export interface IncomingFile {
  path: string;
  size: number;
}

const HOUR_MS = 60 * 60 * 1000;

function toView(upload: Upload): UploadView {
  return {
    url: upload.url,
    publicId: upload.publicId,
    width: upload.width,
    height: upload.height,
    format: upload.format,
    bytes: upload.bytes,
  };
}

/** Image uploads: content checks, the configured store, and the `uploads` record of who uploaded what. */
export class UploadService {
  /**
   * Refuses with 429 RATE_LIMIT_EXCEEDED when `count` more images would take `uploaderId` over
   * UPLOAD_MAX_PER_HOUR in the last hour. Counted from the `uploads` rows, so the limit holds
   * across processes and restarts, and Retry-After says when enough of them leave the hour.
   */
  async assertWithinHourlyLimit(uploaderId: string, count: number, transaction?: Transaction): Promise<void> {
    const max = config.uploadMaxPerHour;
    const since = new Date(Date.now() - HOUR_MS);
    const [{ used }] = await queryRows<{ used: number }>(
      'SELECT count(*)::int AS used FROM uploads WHERE uploader_id = $uploaderId::uuid AND created_at > $since',
      { uploaderId, since },
      transaction,
    );
    const excess = used + count - max;
    if (excess <= 0) return;
    // The upload whose leaving the window makes room for `count` more.
    const [freeing] = await queryRows<{ created_at: Date }>(
      `SELECT created_at FROM uploads WHERE uploader_id = $uploaderId::uuid AND created_at > $since
       ORDER BY created_at OFFSET $offset LIMIT 1`,
      { uploaderId, since, offset: excess - 1 },
      transaction,
    );
    const retryAfter = freeing ? Math.max(1, Math.ceil((new Date(freeing.created_at).getTime() + HOUR_MS - Date.now()) / 1000)) : HOUR_MS / 1000;
    throw new AppError(429, 'RATE_LIMIT_EXCEEDED', `At most ${max} images may be uploaded per hour; try again in ${retryAfter} s`, {
      headers: {
        'Retry-After': String(retryAfter),
        'RateLimit-Limit': String(max),
        'RateLimit-Remaining': String(Math.max(0, max - used)),
        'RateLimit-Reset': String(retryAfter),
      },
    });
  }

  /**
   * Stores images for `uploaderId` and records them. Every file is decoded before any is stored
   * (one refused file means nothing is stored); if storing or recording fails part-way, the files
   * already stored are removed again. The hourly limit is checked before the files are decoded and
   * again, under a per-uploader lock, when they are recorded, so parallel requests cannot pass it.
   */
  async store(uploaderId: string, files: IncomingFile[]): Promise<UploadView[]> {
    await this.assertWithinHourlyLimit(uploaderId, files.length);
    const checked: Array<{ file: IncomingFile; info: ImageInfo }> = [];
    // One after the other: decodes are queued process-wide anyway, and the first refusal ends the work.
    for (const [index, file] of files.entries()) {
      checked.push({ file, info: await this.inspect(file, files.length > 1 ? index : undefined) });
    }
    const storage = imageStorage();

    const saved = await Promise.allSettled(checked.map(({ file, info }) => storage.save({ path: file.path, format: info.format })));
    const stored = saved.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failure = saved.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) {
      await this.discard(storage.kind, stored);
      throw failure.reason;
    }

    try {
      const rows = await getSequelize().transaction(async (transaction) => {
        await queryRows(`SELECT pg_advisory_xact_lock(hashtext('uploads.hourly-limit'), hashtext($uploaderId))`, { uploaderId }, transaction);
        await this.assertWithinHourlyLimit(uploaderId, files.length, transaction);
        // One INSERT: the records of a request are written together or not at all.
        return Upload.bulkCreate(
          checked.map(({ file, info }, index) => ({
            publicId: stored[index].publicId,
            url: stored[index].url,
            provider: storage.kind,
            uploaderId,
            bytes: file.size,
            width: info.width,
            height: info.height,
            format: info.format,
          })),
          { transaction },
        );
      });
      return rows.map(toView);
    } catch (error) {
      await this.discard(storage.kind, stored);
      throw error;
    }
  }

  /**
   * Deletes an upload and its file. Only its uploader or an admin may; anyone else is answered as
   * if it did not exist. An image that a product or one of its variants (not deleted, in any state) still shows is not
   * deleted: 409 UPLOAD_IN_USE, naming the products the caller may see, since removing it would
   * leave a broken image on a listing. The row is deleted in a transaction that commits only once
   * the store has removed the file, so a store that fails leaves the record in place for a retry.
   */
  async remove(actor: UploadActor, publicId: string): Promise<void> {
    await getSequelize().transaction(async (transaction) => {
      const upload = await Upload.findOne({ where: { publicId }, transaction, lock: transaction.LOCK.UPDATE });
      if (!upload || (actor.role !== 'admin' && upload.uploaderId !== actor.id)) throw new NotFoundError('Upload');
      const showing = await queryRows<{ id: string; seller_id: string }>(
        `SELECT id, seller_id FROM products WHERE deleted_at IS NULL AND images @> jsonb_build_array($url::text)
         UNION
         SELECT p.id, p.seller_id FROM product_variants v JOIN products p ON p.id = v.product_id
          WHERE v.deleted_at IS NULL AND p.deleted_at IS NULL AND v.images @> jsonb_build_array($url::text)
         ORDER BY id`,
        { url: upload.url },
        transaction,
      );
      if (showing.length > 0) {
        const visible = showing.filter((product) => actor.role === 'admin' || product.seller_id === actor.id).map((product) => product.id);
        throw new ConflictError(
          'UPLOAD_IN_USE',
          `This image is still shown by ${showing.length} product(s); remove it from ${showing.length === 1 ? 'that product' : 'them'} first`,
          [{ productCount: showing.length, productIds: visible }],
        );
      }
      await upload.destroy({ transaction });
      await storageFor(upload.provider).remove(upload.publicId);
    });
    logger.info('upload deleted', { publicId, actorId: actor.id });
  }

  private async inspect(file: IncomingFile, index: number | undefined): Promise<ImageInfo> {
    const check = await checkImageFile(file.path, config.uploadMaxPixels);
    if (check.ok) return check.info;
    const field = index === undefined ? undefined : `images[${index}]`;
    if (check.reason === 'too-many-pixels') {
      const megapixels = Math.round(config.uploadMaxPixels / 100_000) / 10;
      const message = `The image has ${check.pixels} pixels; at most ${megapixels} megapixels are accepted`;
      throw new BadRequestError('IMAGE_TOO_LARGE', message, field ? [{ field, message }] : undefined);
    }
    const message = 'The file is not a whole JPEG, PNG, WebP or GIF image';
    throw new BadRequestError('INVALID_FILE_TYPE', message, field ? [{ field, message }] : undefined);
  }

  private async discard(kind: Upload['provider'], stored: StoredImage[]): Promise<void> {
    const storage = storageFor(kind);
    const outcomes = await Promise.allSettled(stored.map((image) => storage.remove(image.publicId)));
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'rejected') {
        logger.warn('could not remove a stored image after a failed upload', { publicId: stored[index].publicId, error: String(outcome.reason) });
      }
    });
  }
}

export const uploadService = new UploadService();

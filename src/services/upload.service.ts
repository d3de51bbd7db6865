import { imageStorage, storageFor, type StoredImage } from '../integrations/storage';
import { Upload } from '../models';
import type { UserRole } from '../models/enums';
import { getSequelize } from '../db';
import { BadRequestError, NotFoundError } from '../utils/errors';
import { inspectImage, type ImageInfo } from '../utils/image-type';
import { logger } from '../utils/logger';

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
   * Stores images for `uploaderId` and records them. Every file's content is checked before any
   * is stored (one refused file means nothing is stored); if storing or recording fails part-way,
   * the files already stored are removed again.
   */
  async store(uploaderId: string, files: Buffer[]): Promise<UploadView[]> {
    const checked = files.map((buffer, index) => ({ buffer, info: this.inspect(buffer, files.length > 1 ? index : undefined) }));
    const storage = imageStorage();

    const saved = await Promise.allSettled(checked.map(({ buffer, info }) => storage.save({ buffer, format: info.format })));
    const stored = saved.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failure = saved.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) {
      await this.discard(storage.kind, stored);
      throw failure.reason;
    }

    try {
      // One INSERT: the records of a request are written together or not at all.
      const rows = await Upload.bulkCreate(
        checked.map(({ buffer, info }, index) => ({
          publicId: stored[index].publicId,
          url: stored[index].url,
          provider: storage.kind,
          uploaderId,
          bytes: buffer.length,
          width: info.width,
          height: info.height,
          format: info.format,
        })),
      );
      return rows.map(toView);
    } catch (error) {
      await this.discard(storage.kind, stored);
      throw error;
    }
  }

  /**
   * Deletes an upload and its file. Only its uploader or an admin may; anyone else is answered as
   * if it did not exist. The row is deleted in a transaction that commits only once the store has
   * removed the file, so a store that fails leaves the record in place for a retry.
   */
  async remove(actor: UploadActor, publicId: string): Promise<void> {
    await getSequelize().transaction(async (transaction) => {
      const upload = await Upload.findOne({ where: { publicId }, transaction, lock: transaction.LOCK.UPDATE });
      if (!upload || (actor.role !== 'admin' && upload.uploaderId !== actor.id)) throw new NotFoundError('Upload');
      await upload.destroy({ transaction });
      await storageFor(upload.provider).remove(upload.publicId);
    });
    logger.info('upload deleted', { publicId, actorId: actor.id });
  }

  private inspect(buffer: Buffer, index: number | undefined): ImageInfo {
    const info = inspectImage(buffer);
    if (info) return info;
    const message = 'The file is not a JPEG, PNG, WebP or GIF image';
    throw new BadRequestError('INVALID_FILE_TYPE', message, index === undefined ? undefined : [{ field: `images[${index}]`, message }]);
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

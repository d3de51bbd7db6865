import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_EXTENSIONS, type ImageFormat } from '../utils/image-type';
import { logger } from '../utils/logger';
import type { ImageStorage, StoredImage } from './types';

/** The only names this store writes, and so the only ones it will ever touch. */
const FILE_NAME = /^[0-9a-f]{32}\.(jpg|png|webp|gif)$/;

/**
 * Files in one directory (DATA_DIR/uploads), served by the app under /uploads. Names are random
 * with the extension of the detected format, so a client never picks a path or a content type.
 */
export class LocalImageStorage implements ImageStorage {
  readonly kind = 'local' as const;

  constructor(
    private readonly directory: string,
    private readonly baseUrl: string,
  ) {}

  async save(file: { path: string; format: ImageFormat }): Promise<StoredImage> {
    await fs.mkdir(this.directory, { recursive: true });
    const name = `${randomBytes(16).toString('hex')}.${IMAGE_EXTENSIONS[file.format]}`;
    const target = path.join(this.directory, name);
    // Copied by the kernel, not through this process's memory; COPYFILE_EXCL: never overwrite,
    // however unlikely a clash of 128 random bits is.
    await fs.copyFile(file.path, target, fsConstants.COPYFILE_EXCL);
    await fs.chmod(target, 0o644);
    return { url: `${this.baseUrl}/${name}`, publicId: name };
  }

  async remove(publicId: string): Promise<void> {
    // A name this store never writes cannot be a file of ours: the disk is left alone.
    if (!FILE_NAME.test(publicId)) {
      logger.warn('local upload removal skipped: not a generated file name', { publicId });
      return;
    }
    await fs.rm(path.join(this.directory, publicId), { force: true });
  }
}

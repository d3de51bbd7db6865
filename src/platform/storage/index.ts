import path from 'node:path';
import { config } from '../config';
import type { UploadProvider } from '../../models/enums';
import { ServiceUnavailableError } from '../utils/errors';
import { CloudinaryImageStorage } from './cloudinary';
import { LocalImageStorage } from './local';

import type { ImageStorage } from './types';

export * from './types';

const instances = new Map<UploadProvider, ImageStorage>();

function build(kind: UploadProvider): ImageStorage {
  if (kind === 'cloudinary') {
    if (!config.cloudinary) {
      throw new ServiceUnavailableError('STORAGE_UNAVAILABLE', 'Cloudinary is not configured on this server');
    }
    return new CloudinaryImageStorage(config.cloudinary);
  }
  return new LocalImageStorage(path.join(config.dataDir, 'uploads'), `${config.appUrl}/uploads`);
}

/** The store of a given provider, e.g. the one an existing upload was saved to. */
export function storageFor(kind: UploadProvider): ImageStorage {
  let storage = instances.get(kind);
  if (!storage) {
    storage = build(kind);
    instances.set(kind, storage);
  }
  return storage;
}

/** The store new uploads go to: Cloudinary when it is configured, else files under DATA_DIR/uploads. */
export function imageStorage(): ImageStorage {
  return storageFor(config.cloudinary ? 'cloudinary' : 'local');
}

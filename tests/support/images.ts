/** Small real images (1×1), one per accepted format, and things that only pretend to be images. */
export const IMAGES = {
  png: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64'),
  gif: Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'),
  jpeg: Buffer.from(
    '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
    'base64',
  ),
  webp: Buffer.from('UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA', 'base64'),
} as const;

/** A valid PNG signature and header followed by zero padding up to `bytes`. */
export function paddedPng(bytes: number): Buffer {
  return Buffer.concat([IMAGES.png, Buffer.alloc(Math.max(0, bytes - IMAGES.png.length))]);
}

/** A text file, whatever name it is sent under. */
export const TEXT_FILE = Buffer.from('Shopping notes\n- milk\n- bread\n', 'utf8');

import { imageSize } from 'image-size';

/** The image formats the API accepts, named as they are stored in `uploads.format`. */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** File name extension of each format, for generated file names. */
export const IMAGE_EXTENSIONS: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif' };

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, signature: number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, index) => bytes[offset + index] === byte);
}

function ascii(text: string): number[] {
  return [...text].map((char) => char.charCodeAt(0));
}

/** The format named by the file's leading bytes (its magic number), or undefined for anything else. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  return undefined;
}

/** image-size names JPEG 'jpg'; every other accepted format has the same name in both lists. */
const SIZE_TYPES: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif' };

/**
 * Format and dimensions read from the content alone (the client's file name and MIME type are
 * never trusted). Undefined when the bytes are not a well-formed JPEG, PNG, WebP or GIF header:
 * a valid magic number followed by garbage is refused too.
 */
export function inspectImage(bytes: Uint8Array): ImageInfo | undefined {
  const format = detectImageFormat(bytes);
  if (!format) return undefined;
  try {
    const size = imageSize(bytes);
    if (size.type !== SIZE_TYPES[format] || !size.width || !size.height) return undefined;
    return { format, width: size.width, height: size.height };
  } catch {
    return undefined;
  }
}

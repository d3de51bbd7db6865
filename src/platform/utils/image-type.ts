import fs from 'node:fs/promises';
import { imageSize } from 'image-size';
import sharp, { type Metadata } from 'sharp';

/** The image formats the API accepts, named as they are stored in `uploads.format`. */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** File name extension of each format, for generated file names. */
export const IMAGE_EXTENSIONS: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif' };

export interface ImageInfo {
  format: ImageFormat;
  /** Of one frame, for animations. */
  width: number;
  height: number;
}

/** Why a file is not accepted as an image. */
export type ImageRefusal = { reason: 'not-an-image' } | { reason: 'too-many-pixels'; pixels: number };

export type ImageCheck = { ok: true; info: ImageInfo } | ({ ok: false } & ImageRefusal);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** image-size reads headers from the start of a file; a JPEG's size may follow large metadata segments. */
const HEADER_BYTES = 512 * 1024;

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

// Every upload is a different image: libvips' operation cache would only hold memory and open files.
sharp.cache(false);

/**
 * Decodes run one at a time in this process. A full decode holds up to a few bytes per pixel
 * (about 150 MB for a 40 MP PNG or JPEG, 350 MB for a WebP or GIF, measured), so parallel uploads
 * queue here instead of adding their decodes up; libvips still uses every core for the one it runs.
 */
let decodeChain: Promise<unknown> = Promise.resolve();

function oneDecodeAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = decodeChain.then(work, work);
  decodeChain = run.catch(() => undefined);
  return run;
}

async function readHeader(filePath: string): Promise<Buffer> {
  const handle = await fs.open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The size the header claims, read without a native decoder; undefined when it cannot be read. */
function claimedPixels(header: Buffer): number | undefined {
  try {
    const size = imageSize(header);
    return size.width && size.height ? size.width * size.height : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks that the file at `filePath` is a whole JPEG, PNG, WebP or GIF image of at most
 * `maxPixels` pixels (all frames of an animation together), from its content alone: the client's
 * file name and MIME type are never trusted.
 *
 * In order: the magic number must name an accepted format (so no other libvips loader, such as
 * SVG or TIFF, ever sees the file); the size the header claims is checked before any decoder
 * allocates for it (a 45-byte PNG may claim 2^31 × 2^31 pixels); then the whole image is decoded,
 * and any decoder warning refuses it (sharp's default `failOn: 'warning'`): a valid header in front
 * of random bytes, a truncated file or a corrupt stream is not an image.
 */
export async function checkImageFile(filePath: string, maxPixels: number): Promise<ImageCheck> {
  const header = await readHeader(filePath);
  const format = detectImageFormat(header);
  if (!format) return { ok: false, reason: 'not-an-image' };
  const claimed = claimedPixels(header);
  if (claimed !== undefined && claimed > maxPixels) return { ok: false, reason: 'too-many-pixels', pixels: claimed };

  return oneDecodeAtATime(async (): Promise<ImageCheck> => {
    let metadata: Metadata;
    try {
      metadata = await sharp(filePath, { limitInputPixels: false }).metadata();
    } catch {
      return { ok: false, reason: 'not-an-image' };
    }
    if (metadata.format !== format || !metadata.width || !metadata.height) return { ok: false, reason: 'not-an-image' };
    const frameHeight = metadata.pageHeight ?? metadata.height;
    const pixels = metadata.width * frameHeight * (metadata.pages ?? 1);
    if (pixels > maxPixels) return { ok: false, reason: 'too-many-pixels', pixels };
    try {
      // stats() reads every pixel of every frame; nothing is kept but a few numbers per channel.
      await sharp(filePath, { pages: -1, limitInputPixels: maxPixels, failOn: 'warning' }).stats();
    } catch {
      return { ok: false, reason: 'not-an-image' };
    }
    return { ok: true, info: { format, width: metadata.width, height: frameHeight } };
  });
}

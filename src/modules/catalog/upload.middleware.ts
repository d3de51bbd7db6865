import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Request, RequestHandler, Response } from 'express';
import multer, { MulterError } from 'multer';
import { config } from '../../platform/config';
import { AppError, BadRequestError, PayloadTooLargeError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { describeMiddleware } from '../../platform/http/openapi';

/** Text parts are not part of any upload route; a few are read (and refused) rather than cut off mid-body. */
const MAX_TEXT_FIELDS = 20;

/** A temporary file older than this belongs to no request any more (a process that died mid-upload). */
const STALE_TEMP_FILE_MS = 60 * 60 * 1000;

/** An uploaded file, as the handlers behind acceptImages() see it: on disk, never in memory. */
export interface UploadedFile {
  /** A temporary file, removed once the response is over. */
  path: string;
  size: number;
}

/** Where multer writes incoming files: under DATA_DIR (same disk as local storage), never served. */
export function uploadTempDir(): string {
  return path.join(config.dataDir, 'tmp', 'uploads');
}

let tempDirReady: Promise<string> | undefined;

/** Creates the temporary directory once per process, clearing what a dead process left there. */
function ensureTempDir(): Promise<string> {
  tempDirReady ??= (async () => {
    const dir = uploadTempDir();
    await fs.promises.mkdir(dir, { recursive: true });
    const cutoff = Date.now() - STALE_TEMP_FILE_MS;
    for (const name of await fs.promises.readdir(dir)) {
      const file = path.join(dir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat?.isFile() && stat.mtimeMs < cutoff) await fs.promises.rm(file, { force: true });
    }
    return dir;
  })().catch((error: unknown) => {
    tempDirReady = undefined;
    throw error;
  });
  return tempDirReady;
}

/** Every temporary file named for a request, partial ones included, so none outlives it. */
const tempFiles = new WeakMap<Request, string[]>();

function removeTempFilesWhenDone(req: Request, res: Response): void {
  // 'close' comes after the response is sent, and also when the client goes away mid-body.
  res.once('close', () => {
    for (const file of tempFiles.get(req) ?? []) {
      fs.promises.rm(file, { force: true }).catch((error: unknown) => {
        logger.warn('could not remove a temporary upload file', { file, error: String(error) });
      });
    }
  });
}

/**
 * multer's disk storage: each file is streamed to its own temporary file as it arrives, so a
 * request holds a few kilobytes of buffers, not its files (ten 5 MB files in each of many parallel
 * requests would otherwise all be in memory at once).
 */
const diskStorage = multer.diskStorage({
  destination: (_req, _file, callback) => {
    ensureTempDir().then((dir) => callback(null, dir), (error: Error) => callback(error, ''));
  },
  filename: (req, _file, callback) => {
    const name = randomBytes(16).toString('hex');
    const files = tempFiles.get(req) ?? [];
    files.push(path.join(uploadTempDir(), name));
    tempFiles.set(req, files);
    callback(null, name);
  },
});

function tooManyFiles(maxFiles: number): AppError {
  return new BadRequestError('TOO_MANY_FILES', maxFiles === 1 ? 'Send one file per request' : `Send at most ${maxFiles} files per request`);
}

function unexpectedField(field: string, name?: string): AppError {
  return new BadRequestError(
    'UNEXPECTED_FIELD',
    `Send the image in the multipart field "${field}", and nothing else`,
    name ? [{ field: name, message: `${name} is not allowed` }] : undefined,
  );
}

/** multer's and busboy's errors as the contract's codes, so the error handler needs no upload case. */
function toAppError(error: unknown, field: string, maxFiles: number): Error {
  if (error instanceof AppError) return error;
  if (error instanceof MulterError) {
    switch (error.code) {
      case 'LIMIT_FILE_SIZE': {
        const megabytes = Math.round((config.uploadMaxBytes / (1024 * 1024)) * 10) / 10;
        return new PayloadTooLargeError('FILE_TOO_LARGE', `Each file may be at most ${megabytes} MB`);
      }
      case 'LIMIT_FILE_COUNT':
        return tooManyFiles(maxFiles);
      case 'LIMIT_UNEXPECTED_FILE':
        // multer reports a file over the field's maxCount the same way as a file in another field.
        return error.field === field ? tooManyFiles(maxFiles) : unexpectedField(field, error.field);
      case 'LIMIT_FIELD_COUNT':
      case 'LIMIT_PART_COUNT':
        return unexpectedField(field);
      default:
        return new BadRequestError('INVALID_MULTIPART', `The multipart body is malformed: ${error.message}`);
    }
  }
  // A disk that is full or unwritable is our failure (500), not a malformed body.
  if (error instanceof Error && 'syscall' in error) return error;
  // busboy's parse errors: a missing boundary, a truncated body, a client that went away.
  return new BadRequestError('INVALID_MULTIPART', 'The multipart body could not be read');
}

function filesOf(req: Request): Express.Multer.File[] {
  if (req.file) return [req.file];
  return Array.isArray(req.files) ? req.files : [];
}

/**
 * Streams `maxFiles` files of the multipart field `field` to temporary files (each at most
 * config.uploadMaxBytes) and leaves them on req.file / req.files; they are removed when the
 * response is over, whatever it is. Answers 400 NO_FILE when there is none, 400 TOO_MANY_FILES,
 * 400 UNEXPECTED_FIELD for any other part, 413 FILE_TOO_LARGE. The content itself is checked by
 * the upload service.
 */
export function acceptImages(field: string, maxFiles: number): RequestHandler {
  let parse: RequestHandler | undefined;
  const handler: RequestHandler = (req, res, next) => {
    if (!parse) {
      const parser = multer({
        storage: diskStorage,
        limits: { fileSize: config.uploadMaxBytes, files: maxFiles, fields: MAX_TEXT_FIELDS, fieldSize: 1024 },
      });
      parse = maxFiles === 1 ? parser.single(field) : parser.array(field, maxFiles);
    }
    removeTempFilesWhenDone(req, res);
    parse(req, res, (error?: unknown) => {
      if (error) {
        next(toAppError(error, field, maxFiles));
        return;
      }
      const textFields = Object.keys(req.body ?? {});
      if (textFields.length > 0) {
        next(unexpectedField(field, textFields[0]));
        return;
      }
      if (filesOf(req).length === 0) {
        next(new BadRequestError('NO_FILE', `Send an image in the multipart field "${field}"`));
        return;
      }
      next();
    });
  };
  return describeMiddleware(handler, { multipart: { field, maxFiles } });
}

/** The files acceptImages() received; for handlers behind it. */
export function uploadedFiles(req: Request): UploadedFile[] {
  return filesOf(req).map((file) => ({ path: file.path, size: file.size }));
}

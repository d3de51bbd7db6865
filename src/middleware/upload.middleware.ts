import type { Request, RequestHandler } from 'express';
import multer, { MulterError } from 'multer';
import { config } from '../config';
import { AppError, BadRequestError, PayloadTooLargeError } from '../utils/errors';
import { describeMiddleware } from '../utils/openapi';

/** Text parts are not part of any upload route; a few are read (and refused) rather than cut off mid-body. */
const MAX_TEXT_FIELDS = 20;

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
  // busboy's parse errors: a missing boundary, a truncated body, a client that went away.
  return new BadRequestError('INVALID_MULTIPART', 'The multipart body could not be read');
}

function filesOf(req: Request): Express.Multer.File[] {
  if (req.file) return [req.file];
  return Array.isArray(req.files) ? req.files : [];
}

/**
 * Reads `maxFiles` files of the multipart field `field` into memory (each at most
 * config.uploadMaxBytes) and leaves them on req.file / req.files. Answers 400 NO_FILE when there
 * is none, 400 TOO_MANY_FILES, 400 UNEXPECTED_FIELD for any other part, 413 FILE_TOO_LARGE.
 * The content itself is checked by the upload service.
 */
export function acceptImages(field: string, maxFiles: number): RequestHandler {
  let parse: RequestHandler | undefined;
  const handler: RequestHandler = (req, res, next) => {
    if (!parse) {
      const parser = multer({
        storage: multer.memoryStorage(),
        limits: { fileSize: config.uploadMaxBytes, files: maxFiles, fields: MAX_TEXT_FIELDS, fieldSize: 1024 },
      });
      parse = maxFiles === 1 ? parser.single(field) : parser.array(field, maxFiles);
    }
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

/** The files acceptImages() read; for handlers behind it. */
export function uploadedFiles(req: Request): Buffer[] {
  return filesOf(req).map((file) => file.buffer);
}

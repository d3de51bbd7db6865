import type { ErrorRequestHandler, RequestHandler } from 'express';
import Joi from 'joi';
import {
  DatabaseError,
  ForeignKeyConstraintError,
  UniqueConstraintError,
  ValidationError as SequelizeValidationError,
} from 'sequelize';
import { AppError, PayloadTooLargeError, RouteNotFoundError, ValidationError } from '../utils/errors';
import { logger } from '../utils/logger';
import { joiDetails } from './validate.middleware';

interface HttpParserError extends Error {
  type?: string;
  status?: number;
  code?: string;
  field?: string;
}

/** SQLSTATEs that only bad input can cause: the client gets a 400, never a 500. */
const INPUT_SQLSTATES = new Set(['22P02', '22003', '22001', '22007', '22008', '22021', '23514']);

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const parserError = error as HttpParserError;
  switch (parserError?.type) {
    case 'entity.parse.failed':
      return new AppError(400, 'INVALID_JSON', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new PayloadTooLargeError();
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', parserError.message);
    case 'request.aborted':
      return new AppError(400, 'REQUEST_ABORTED', 'The request was aborted');
    default:
      break;
  }
  if (Joi.isError(error)) return new ValidationError(joiDetails(error));
  if (error instanceof UniqueConstraintError) {
    return new AppError(409, 'RESOURCE_EXISTS', 'A resource with these values already exists', {
      details: error.errors.map((item) => ({ field: item.path ?? 'unknown', message: 'must be unique' })),
    });
  }
  if (error instanceof ForeignKeyConstraintError) {
    return new AppError(400, 'INVALID_REFERENCE', 'A referenced resource does not exist or is still in use');
  }
  if (error instanceof SequelizeValidationError) {
    return new ValidationError(error.errors.map((item) => ({ field: item.path ?? 'unknown', message: item.message })));
  }
  if (error instanceof DatabaseError) {
    const sqlState = (error.original as { code?: string } | undefined)?.code;
    if (sqlState && INPUT_SQLSTATES.has(sqlState)) {
      return new AppError(400, 'INVALID_INPUT', 'A value is out of range or of the wrong form');
    }
  }
  return new AppError(500, 'INTERNAL_ERROR', 'Something went wrong on our side', { isOperational: false });
}

export const notFoundHandler: RequestHandler = (req) => {
  throw new RouteNotFoundError(req.method, req.path);
};

/** The one place where errors become responses; the body is always the contract's envelope. */
export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const appError = toAppError(error);
  if (!appError.isOperational || appError.status >= 500) {
    logger.error('request failed', {
      requestId: req.requestId,
      method: req.method,
      route: req.originalUrl.split('?')[0],
      error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
    });
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  if (appError.headers) res.set(appError.headers);
  const body: Record<string, unknown> = { code: appError.code, message: appError.message };
  if (appError.details) body.details = appError.details;
  if (appError.status >= 500) body.requestId = req.requestId;
  res.status(appError.status).json({ success: false, error: body });
};

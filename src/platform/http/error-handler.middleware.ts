import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import Joi from 'joi';
import {
  DatabaseError,
  ForeignKeyConstraintError,
  UniqueConstraintError,
  ValidationError as SequelizeValidationError,
} from 'sequelize';
import { TransactionContentionError } from '../db/transaction';
import { AppError, PayloadTooLargeError, RouteNotFoundError, ServiceUnavailableError, ValidationError } from '../utils/errors';
import { logger } from '../utils/logger';
import { joiDetails } from './validate.middleware';

/**
 * What Express's router and body-parser (through http-errors) put on the errors they pass on:
 * `status` is the answer they mean (400 for a path that is not valid percent-encoding, 400 for a
 * body that cannot be inflated, 415 for an unknown encoding), `type` names body-parser's cases.
 */
interface HttpParserError extends Error {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  code?: string;
  field?: string;
}

/**
 * The 4xx an error of Express's own layers means. Only http-errors' client errors (marked
 * `expose`) and the router's URIError count: an SDK's error with a 4xx `statusCode` (Stripe
 * refusing our request) is our failure, and stays a 500.
 */
function clientErrorStatus(error: HttpParserError): number | undefined {
  const status = error.status ?? error.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return error.expose === true || error instanceof URIError ? status : undefined;
}

/** 'Not Acceptable' → 'NOT_ACCEPTABLE': the code of a 4xx that no case below names better. */
function codeOfStatus(status: number): string {
  return (STATUS_CODES[status] ?? 'Bad Request').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** SQLSTATEs that only bad input can cause: the client gets a 400, never a 500. */
const INPUT_SQLSTATES = new Set(['22P02', '22003', '22001', '22007', '22008', '22021', '23514']);

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof TransactionContentionError) {
    return new ServiceUnavailableError('TRY_AGAIN', 'The server is busy with conflicting requests; please try again', { 'Retry-After': '1' });
  }
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
    case 'request.size.invalid':
      return new AppError(400, 'INVALID_BODY', 'The request body is shorter or longer than its Content-Length');
    default:
      break;
  }
  const clientStatus = parserError instanceof Error ? clientErrorStatus(parserError) : undefined;
  if (clientStatus !== undefined) {
    // The router could not percent-decode a path parameter (e.g. /api/products/abc%ZZ).
    if (parserError instanceof URIError) return new AppError(400, 'INVALID_URL', 'The URL is not valid percent-encoding');
    // zlib could not inflate a body sent with Content-Encoding gzip, deflate or br (its errors carry an errno).
    if (clientStatus === 400 && typeof (parserError as { errno?: unknown }).errno === 'number') {
      return new AppError(400, 'INVALID_BODY', 'The request body does not match its Content-Encoding');
    }
    // Any other 4xx that Express or a parser meant: its status, never a 500.
    return new AppError(clientStatus, codeOfStatus(clientStatus), STATUS_CODES[clientStatus] ?? 'Bad request');
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

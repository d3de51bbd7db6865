/**
 * One error class per meaning, each with a stable code (published codes are never renamed).
 * Services throw these; the error middleware turns them into the contract's envelope.
 */
export interface ErrorDetail {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: ErrorDetail[] | Record<string, unknown>[];
  /** False for bugs and outages: those are logged with their stack and answered as INTERNAL_ERROR. */
  readonly isOperational: boolean;
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: ErrorDetail[] | Record<string, unknown>[]; isOperational?: boolean; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.isOperational = options.isOperational ?? true;
    this.headers = options.headers;
  }
}

export class ValidationError extends AppError {
  constructor(details: ErrorDetail[], message = 'Validation failed') {
    super(400, 'VALIDATION_ERROR', message, { details });
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, message: string, details?: ErrorDetail[] | Record<string, unknown>[]) {
    super(400, code, message, { details });
  }
}

export class UnauthorizedError extends AppError {
  constructor(code = 'UNAUTHORIZED', message = 'Authentication required') {
    super(401, code, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(code = 'INSUFFICIENT_PERMISSIONS', message = 'You do not have permission to do this') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  /** `entity` names the resource: NotFoundError('Product') is 404 PRODUCT_NOT_FOUND. */
  constructor(entity: string, message?: string) {
    const code = `${entity.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}_NOT_FOUND`;
    super(404, code, message ?? `${entity.replace(/([a-z])([A-Z])/g, '$1 $2')} not found`);
  }
}

export class PaymentRequiredError extends AppError {
  constructor(code: string, message: string) {
    super(402, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: ErrorDetail[] | Record<string, unknown>[]) {
    super(409, code, message, { details });
  }
}

export class UnprocessableError extends AppError {
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(code = 'PAYLOAD_TOO_LARGE', message = 'The request body is too large') {
    super(413, code, message);
  }
}

export class RouteNotFoundError extends AppError {
  constructor(method: string, path: string) {
    super(404, 'ROUTE_NOT_FOUND', `No route for ${method} ${path}`);
  }
}

export class UpstreamError extends AppError {
  constructor(code: string, message: string) {
    super(502, code, message);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string, headers?: Record<string, string>) {
    super(503, code, message, { headers });
  }
}

import type { AuthContext } from '../modules/accounts';

declare global {
  namespace Express {
    interface Request {
      /** Echoed from the X-Request-Id header when it is sane, else generated. */
      requestId: string;
      /**
       * Parsed, converted and whitelisted input; controllers read this, never req.body or req.query,
       * through the type their route's schemas give it (`handler()` in validate.middleware).
       */
      validated: object;
      /** Set by `authenticate` (and by `optionalAuth` when a valid token is sent). */
      auth?: AuthContext;
    }
  }
}

export {};

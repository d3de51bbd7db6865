/**
 * Accounts: users, sign-in and sessions, sellers' profiles and their approval. Below every other
 * module: they check callers through it, and learn of sign-ins and sellers' trading through
 * the listeners they register (account-events.ts).
 */
export { adminUserRoutes } from './admin-user.routes';
export { addressRoutes } from './address.routes';
export { authRoutes } from './auth.routes';
export { sellerProfileRoutes } from './seller-profile.routes';
export { authenticate, authorize, callerOf, cartAccess, currentAuth, optionalAuth, type AuthContext, type AuthUser } from './auth.middleware';
export type { Caller } from './caller';
export { onSellerTrading, onSignIn, type SellerTradingListener, type SignInListener } from './account-events';
export { sessionService } from './session.service';
export { addressService } from './address.service';

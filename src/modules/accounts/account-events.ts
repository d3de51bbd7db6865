import type { Transaction } from 'sequelize';

/**
 * What other modules do when something happens to an account. Accounts sits below the catalog,
 * the orders and finance, so it cannot call them: they register here (in their index) and
 * accounts calls what was registered, in order of registration.
 */

/** A seller starts or stops trading (approved again, or suspended); runs inside the transaction that changes their status. */
export type SellerTradingListener = (sellerId: string, trading: boolean, transaction: Transaction) => Promise<void>;

/** Someone signed in or registered: `header` reads the request's headers (a guest cart's token, say). */
export type SignInListener = (userId: string, header: (name: string) => string | undefined) => Promise<void>;

const sellerTradingListeners: SellerTradingListener[] = [];
const signInListeners: SignInListener[] = [];

export function onSellerTrading(listener: SellerTradingListener): void {
  sellerTradingListeners.push(listener);
}

export function onSignIn(listener: SignInListener): void {
  signInListeners.push(listener);
}

export async function sellerTradingChanged(sellerId: string, trading: boolean, transaction: Transaction): Promise<void> {
  for (const listener of sellerTradingListeners) await listener(sellerId, trading, transaction);
}

export async function signedIn(userId: string, header: (name: string) => string | undefined): Promise<void> {
  for (const listener of signInListeners) await listener(userId, header);
}

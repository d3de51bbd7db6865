import type { Express } from 'express';
import { createSellerProfile, uniqueSuffix } from '../fixtures';
import type { SellerProfile } from '../../src/models';
import { signedInUser, type SignedIn } from './auth';

export interface SignedInSeller extends SignedIn {
  profile: SellerProfile;
}

/** An approved seller with a store, signed in through the API. */
export async function signedInSeller(app: Express): Promise<SignedInSeller> {
  const signed = await signedInUser(app, { role: 'seller', status: 'approved' });
  const profile = await createSellerProfile({ userId: signed.user.id });
  return { ...signed, profile };
}

/** A valid POST /api/products body; override any field. */
export function productBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Studio Wireless Headphones',
    description: 'Over-ear wireless headphones with active noise cancelling and a 30 hour battery.',
    shortDescription: 'Noise cancelling over-ear headphones',
    price: '199.99',
    comparePrice: '249.99',
    costPrice: '120.00',
    sku: `HP-${uniqueSuffix().toUpperCase()}`,
    stockQuantity: 10,
    status: 'active',
    images: ['https://img.example.com/headphones.jpg'],
    tags: ['audio', 'wireless'],
    ...overrides,
  };
}

import type { SellerProfile, User } from '../../models';

export interface SellerProfileView {
  id: string;
  storeName: string;
  storeSlug: string;
  storeDescription: string | null;
  logoUrl: string | null;
  approvedAt: Date | null;
  rejectedAt: Date | null;
  rejectionReason: string | null;
  /** Only for the seller themself and admins. */
  payoutDetails?: Record<string, unknown> | null;
  commissionRate?: string | null;
}

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: string;
  status: string;
  avatarUrl: string | null;
  emailVerified: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  suspendedReason?: string | null;
  sellerProfile?: SellerProfileView | null;
}

export function serializeSellerProfile(profile: SellerProfile, options: { private?: boolean } = {}): SellerProfileView {
  const view: SellerProfileView = {
    id: profile.id,
    storeName: profile.storeName,
    storeSlug: profile.storeSlug,
    storeDescription: profile.storeDescription,
    logoUrl: profile.logoUrl,
    approvedAt: profile.approvedAt,
    rejectedAt: profile.rejectedAt,
    rejectionReason: profile.rejectionReason,
  };
  if (options.private) {
    view.payoutDetails = profile.payoutDetails;
    view.commissionRate = profile.commissionRate;
  }
  return view;
}

/**
 * The one shape of a user that leaves the server: a whitelist, so a column added later
 * (a token, a hash) is private until someone decides otherwise.
 */
export function serializeUser(user: User, options: { admin?: boolean } = {}): UserView {
  const view: UserView = {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    status: user.status,
    avatarUrl: user.avatarUrl,
    emailVerified: user.emailVerified,
    lastLoginAt: user.lastLoginAt,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
  if (options.admin) view.suspendedReason = user.suspendedReason;
  if (user.sellerProfile !== undefined) {
    view.sellerProfile = user.sellerProfile ? serializeSellerProfile(user.sellerProfile, { private: true }) : null;
  }
  return view;
}

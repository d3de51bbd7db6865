import { Op, type Transaction, type WhereOptions } from 'sequelize';
import { getSequelize } from '../../platform/db';
import { sendEmail } from '../../platform/jobs/email.job';
import { SellerProfile, User } from '../../models';
import type { UserRole, UserStatus } from '../../models/enums';
import type { UserAttributes } from '../../models/user.model';
import { BadRequestError, ConflictError, NotFoundError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { likePattern, offsetOf, paginationOf, type PageQuery, type Pagination } from '../../platform/utils/pagination';
import { withUniqueSlug } from '../../platform/db/unique-slug';
import { sellerTradingChanged } from './account-events';
import { sessionService } from './session.service';
import { serializeSellerProfile, serializeUser, type SellerProfileView, type UserView } from './user.serializer';

export interface UserFilters extends PageQuery {
  role?: UserRole;
  status?: UserStatus;
  search?: string;
}

export interface SellerProfileChanges {
  storeName?: string;
  storeDescription?: string | null;
  logoUrl?: string | null;
  payoutDetails?: Record<string, unknown> | null;
}

/** Admin management of accounts, and the seller's own store profile. */
export class UserService {
  async list(filters: UserFilters): Promise<{ users: UserView[]; pagination: Pagination }> {
    const where: WhereOptions<UserAttributes>[] = [];
    if (filters.role) where.push({ role: filters.role });
    if (filters.status) where.push({ status: filters.status });
    if (filters.search) {
      const pattern = likePattern(filters.search);
      where.push({ [Op.or]: [{ name: { [Op.iLike]: pattern } }, { email: { [Op.iLike]: pattern } }] });
    }
    const { rows, count } = await User.findAndCountAll({
      where: { [Op.and]: where },
      include: [{ model: SellerProfile, as: 'sellerProfile', required: false }],
      order: [
        ['createdAt', 'DESC'],
        ['id', 'ASC'],
      ],
      limit: filters.limit,
      offset: offsetOf(filters),
    });
    return { users: rows.map((user) => serializeUser(user, { admin: true })), pagination: paginationOf(filters, count) };
  }

  async get(id: string): Promise<UserView> {
    const user = await User.findByPk(id, { include: [{ model: SellerProfile, as: 'sellerProfile' }] });
    if (!user) throw new NotFoundError('User');
    return serializeUser(user, { admin: true });
  }

  /**
   * Approves or suspends an account. Suspension revokes every session in the same transaction,
   * so the user's tokens stop working at once; a seller's products leave the catalog (status
   * `suspended`, so carts and checkout refuse them) and their payouts are held. Approval again
   * puts the products back as they were and sends the held Connect transfers. An admin cannot
   * suspend themself.
   */
  async setStatus(actorId: string, userId: string, status: 'approved' | 'suspended', reason?: string): Promise<UserView> {
    if (actorId === userId && status === 'suspended') {
      throw new BadRequestError('CANNOT_SUSPEND_SELF', 'An admin cannot suspend their own account');
    }
    const user = await getSequelize().transaction(async (transaction) => {
      const found = await User.findByPk(userId, { transaction, lock: transaction.LOCK.UPDATE });
      if (!found) throw new NotFoundError('User');
      const wasSuspended = found.status === 'suspended';
      await found.update({ status, suspendedReason: status === 'suspended' ? (reason ?? null) : null }, { transaction });
      if (status === 'suspended') await sessionService.revokeAllForUser(found.id, 'suspended', { transaction });
      if (found.role === 'seller' && wasSuspended !== (status === 'suspended')) await sellerTradingChanged(found.id, status === 'approved', transaction);
      return found;
    });
    logger.info('user status changed', { userId, status, actorId });
    return serializeUser(user, { admin: true });
  }

  async listSellers(filters: PageQuery & { status: UserStatus }): Promise<{ sellers: UserView[]; pagination: Pagination }> {
    const { users, pagination } = await this.list({ ...filters, role: 'seller' });
    return { sellers: users, pagination };
  }

  /** Moves a pending (or rejected) seller to approved and mails them. */
  async approveSeller(actorId: string, sellerId: string): Promise<UserView> {
    const seller = await this.decideSeller(sellerId, async (user, profile, transaction) => {
      await user.update({ status: 'approved' }, { transaction });
      await profile.update({ approvedAt: new Date(), approvedBy: actorId, rejectedAt: null, rejectionReason: null }, { transaction });
      await sendEmail(user.email, 'seller-approved', { name: user.name, storeName: profile.storeName }, transaction);
    });
    logger.info('seller approved', { sellerId, actorId });
    return seller;
  }

  /** Moves a pending seller to rejected with a reason, and mails them the reason. */
  async rejectSeller(actorId: string, sellerId: string, reason: string): Promise<UserView> {
    const seller = await this.decideSeller(
      sellerId,
      async (user, profile, transaction) => {
        await user.update({ status: 'rejected' }, { transaction });
        await profile.update({ rejectedAt: new Date(), rejectionReason: reason, approvedAt: null, approvedBy: null }, { transaction });
        await sendEmail(user.email, 'seller-rejected', { name: user.name, storeName: profile.storeName, reason }, transaction);
      },
      ['pending'],
    );
    logger.info('seller rejected', { sellerId, actorId });
    return seller;
  }

  private async decideSeller(
    sellerId: string,
    apply: (user: User, profile: SellerProfile, transaction: import('sequelize').Transaction) => Promise<void>,
    from: UserStatus[] = ['pending', 'rejected'],
  ): Promise<UserView> {
    return getSequelize().transaction(async (transaction) => {
      const user = await User.findByPk(sellerId, { transaction, lock: transaction.LOCK.UPDATE });
      if (!user || user.role !== 'seller') throw new NotFoundError('Seller');
      if (!from.includes(user.status)) {
        throw new ConflictError('SELLER_NOT_PENDING', `The seller is ${user.status}; only ${from.join(' or ')} sellers can be decided`);
      }
      const profile =
        (await SellerProfile.findOne({ where: { userId: user.id }, transaction })) ??
        (await withUniqueSlug(user.name, 'seller_profiles_store_slug_key', (storeSlug) => SellerProfile.create({ userId: user.id, storeName: user.name, storeSlug }, { transaction }), {
          transaction,
          maxLength: 120,
        }));
      await apply(user, profile, transaction);
      user.sellerProfile = profile;
      return serializeUser(user, { admin: true });
    });
  }

  async getSellerProfile(sellerId: string): Promise<SellerProfileView> {
    const profile = await SellerProfile.findOne({ where: { userId: sellerId } });
    if (!profile) throw new NotFoundError('SellerProfile');
    return serializeSellerProfile(profile, { private: true });
  }

  async updateSellerProfile(sellerId: string, changes: SellerProfileChanges): Promise<SellerProfileView> {
    const profile = await SellerProfile.findOne({ where: { userId: sellerId } });
    if (!profile) throw new NotFoundError('SellerProfile');
    await profile.update(changes);
    return serializeSellerProfile(profile, { private: true });
  }
}

export const userService = new UserService();

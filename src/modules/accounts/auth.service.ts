import { Op, UniqueConstraintError } from 'sequelize';
import { config } from '../../platform/config';
import { getSequelize } from '../../platform/db';
import { sendEmail } from '../../platform/jobs/email.job';
import { SellerProfile, User } from '../../models';
import { BadRequestError, ConflictError, ForbiddenError, UnauthorizedError, ValidationError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { burnPasswordCheck, hashPassword, needsRehash, passwordWeakness, verifyPassword } from '../../platform/utils/password';
import { withUniqueSlug } from '../../platform/db/unique-slug';
import { hashToken, randomToken } from '../../platform/utils/tokens';
import { sealForMail } from '../../platform/mail/mail.service';
import { sessionService, type ClientInfo, type TokenPair } from './session.service';
import { serializeUser, type UserView } from './user.serializer';

const PASSWORD_RESET_TTL_MS = 10 * 60 * 1000;
const EMAIL_VERIFICATION_TTL_MS = 24 * 60 * 60 * 1000;

export interface RegisterInput {
  email: string;
  password: string;
  name: string;
  role: 'customer' | 'seller';
  storeName?: string;
  storeDescription?: string;
}

export interface AuthResult extends Partial<TokenPair> {
  user: UserView;
}

function verificationUrl(token: string): string {
  return `${config.frontendUrl}/verify-email?token=${encodeURIComponent(token)}`;
}

function resetUrl(token: string): string {
  return `${config.frontendUrl}/reset-password?token=${encodeURIComponent(token)}`;
}

/** How long the cost of the dummy comparison is reused before it is read from the table again. */
const DUMMY_COST_TTL_MS = 10 * 60 * 1000;
let dummyCost: { rounds: Promise<number>; readAt: number } | undefined;

/**
 * The cost of the comparison spent on an unknown email: the one most stored hashes have, not
 * BCRYPT_ROUNDS. Right after BCRYPT_ROUNDS is raised the accounts still hold hashes of the old
 * cost (each is made again at its next login), and a dummy at the new cost would answer unknown
 * emails measurably slower than known ones.
 */
function dummyRounds(): Promise<number> {
  if (!dummyCost || Date.now() - dummyCost.readAt > DUMMY_COST_TTL_MS) {
    const rounds = User.mostCommonPasswordCost()
      .then((cost) => cost ?? config.bcryptRounds)
      .catch(() => {
        // Read again on the next unknown email rather than keep a guess for ten minutes.
        dummyCost = undefined;
        return config.bcryptRounds;
      });
    dummyCost = { rounds, readAt: Date.now() };
  }
  return dummyCost.rounds;
}

const LOGIN_REFUSALS: Record<string, () => Error> = {
  suspended: () => new ForbiddenError('ACCOUNT_SUSPENDED', 'This account has been suspended'),
  pending: () => new ForbiddenError('ACCOUNT_PENDING', 'This seller account is waiting for approval'),
  rejected: () => new ForbiddenError('ACCOUNT_REJECTED', 'This seller account was not approved'),
};

/** Length alone lets "password1" through; the common ones are refused before anything is written. */
function requireStrong(password: string, field: string): void {
  const weakness = passwordWeakness(password);
  if (weakness) throw new ValidationError([{ field, message: `${field} ${weakness}` }]);
}

export class AuthService {
  /**
   * Creates a customer (approved, signed in at once) or a seller (pending, with a store profile,
   * no tokens until an admin approves). One transaction; mails are queued after it commits.
   */
  async register(input: RegisterInput, client: ClientInfo): Promise<AuthResult> {
    requireStrong(input.password, 'password');
    const passwordHash = await hashPassword(input.password, config.bcryptRounds);
    const verification = randomToken(32);
    try {
      return await getSequelize().transaction(async (transaction) => {
        const user = await User.create(
          {
            email: input.email,
            password: passwordHash,
            name: input.name,
            role: input.role,
            status: input.role === 'seller' ? 'pending' : 'approved',
            emailVerificationToken: hashToken(verification),
            emailVerificationExpires: new Date(Date.now() + EMAIL_VERIFICATION_TTL_MS),
          },
          { transaction },
        );
        if (input.role === 'seller') {
          user.sellerProfile = await withUniqueSlug(
            input.storeName ?? input.name,
            'seller_profiles_store_slug_key',
            (storeSlug) =>
              SellerProfile.create(
                { userId: user.id, storeName: input.storeName ?? input.name, storeSlug, storeDescription: input.storeDescription ?? null },
                { transaction },
              ),
            { transaction, maxLength: 120 },
          );
        }
        await sendEmail(user.email, 'welcome', { name: user.name, isSeller: input.role === 'seller' }, transaction);
        await sendEmail(user.email, 'email-verification', { name: user.name, verifyUrl: sealForMail(verificationUrl(verification)) }, transaction);
        logger.info('user registered', { userId: user.id, role: user.role });
        if (input.role === 'seller') return { user: serializeUser(user) };
        const tokens = await sessionService.open(user, client, { transaction });
        return { user: serializeUser(user), ...tokens };
      });
    } catch (error) {
      if (error instanceof UniqueConstraintError && (error.original as { constraint?: string }).constraint === 'users_email_key') {
        throw new ConflictError('USER_EXISTS', 'An account with this email already exists');
      }
      throw error;
    }
  }

  /**
   * Checks the password before saying anything about the account, and spends the same bcrypt
   * time when the email is unknown, so answers and timing do not reveal which emails exist.
   * A hash of a lower cost than BCRYPT_ROUNDS is made again with the password just proven.
   */
  async login(email: string, password: string, client: ClientInfo): Promise<AuthResult & TokenPair> {
    const user = await User.findByEmail(email);
    const valid = user ? await verifyPassword(password, user.password) : await burnPasswordCheck(password, await dummyRounds());
    if (!user || !valid) {
      logger.info('login failed', { event: 'login_failed', ip: client.ip });
      throw new UnauthorizedError('INVALID_CREDENTIALS', 'Invalid email or password');
    }
    const refusal = LOGIN_REFUSALS[user.status];
    if (refusal) throw refusal();
    const stored = user.password;
    const rehashed = needsRehash(stored, config.bcryptRounds) ? await hashPassword(password, config.bcryptRounds) : undefined;
    const tokens = await getSequelize().transaction(async (transaction) => {
      await user.update({ lastLoginAt: new Date() }, { transaction });
      if (rehashed) {
        // Only over the hash that was checked: a password changed meanwhile is not overwritten.
        await User.update({ password: rehashed }, { where: { id: user.id, password: stored }, transaction });
      }
      return sessionService.open(user, client, { transaction });
    });
    logger.info('user logged in', { userId: user.id });
    return { user: serializeUser(user), ...tokens };
  }

  refresh(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    return sessionService.refresh(refreshToken, client);
  }

  /** Ends the caller's session; a refresh token of another of the caller's sessions ends that one too. */
  async logout(userId: string, sessionId: string, refreshToken?: string): Promise<void> {
    await sessionService.revoke(sessionId, 'logout');
    if (refreshToken) {
      const other = await sessionService.sessionOfRefreshToken(refreshToken, userId);
      if (other && other !== sessionId) await sessionService.revoke(other, 'logout');
    }
  }

  async me(userId: string): Promise<UserView> {
    const user = await User.findByPk(userId, { include: [{ model: SellerProfile, as: 'sellerProfile' }] });
    if (!user) throw new UnauthorizedError('INVALID_TOKEN', 'The access token is invalid');
    return serializeUser(user);
  }

  async updateMe(userId: string, changes: { name?: string; avatarUrl?: string | null }): Promise<UserView> {
    const user = await User.findByPk(userId, { include: [{ model: SellerProfile, as: 'sellerProfile' }] });
    if (!user) throw new UnauthorizedError('INVALID_TOKEN', 'The access token is invalid');
    await user.update(changes);
    return serializeUser(user);
  }

  /**
   * Changes the password, revokes every other session of the user and voids an outstanding reset
   * link (it was asked for under the old password), atomically.
   */
  async changePassword(userId: string, sessionId: string, currentPassword: string, newPassword: string): Promise<void> {
    requireStrong(newPassword, 'newPassword');
    const user = await User.findByPk(userId);
    if (!user) throw new UnauthorizedError('INVALID_TOKEN', 'The access token is invalid');
    if (!(await verifyPassword(currentPassword, user.password))) {
      throw new BadRequestError('INVALID_CURRENT_PASSWORD', 'The current password is incorrect');
    }
    const password = await hashPassword(newPassword, config.bcryptRounds);
    await getSequelize().transaction(async (transaction) => {
      await user.update({ password, passwordChangedAt: new Date(), passwordResetToken: null, passwordResetExpires: null }, { transaction });
      await sessionService.revokeAllForUser(user.id, 'password_change', { except: sessionId, transaction });
    });
    logger.info('password changed', { userId });
  }

  /** Mails a single-use reset link valid 10 minutes; answers the same whether the email exists or not. */
  async forgotPassword(email: string): Promise<void> {
    const user = await User.findByEmail(email);
    if (!user || user.status === 'suspended') return;
    const token = randomToken(32);
    await user.update({ passwordResetToken: hashToken(token), passwordResetExpires: new Date(Date.now() + PASSWORD_RESET_TTL_MS) });
    await sendEmail(user.email, 'password-reset', {
      name: user.name,
      resetUrl: sealForMail(resetUrl(token)),
      expiresInMinutes: PASSWORD_RESET_TTL_MS / 60_000,
    });
  }

  /**
   * Consumes the token (one conditional update: it cannot be used twice), sets the password,
   * revokes all sessions. The token is looked up before the password is hashed: a guessed token
   * costs a query, not a bcrypt hash.
   */
  async resetPassword(token: string, password: string): Promise<void> {
    requireStrong(password, 'password');
    const tokenHash = hashToken(token);
    const invalid = () => new BadRequestError('INVALID_OR_EXPIRED_TOKEN', 'This link is invalid or has expired');
    if (!(await User.findByValidPasswordResetToken(tokenHash))) throw invalid();
    const passwordHash = await hashPassword(password, config.bcryptRounds);
    await getSequelize().transaction(async (transaction) => {
      const [count, rows] = await User.update(
        { password: passwordHash, passwordResetToken: null, passwordResetExpires: null, passwordChangedAt: new Date() },
        {
          where: { passwordResetToken: tokenHash, passwordResetExpires: { [Op.gt]: new Date() } },
          returning: true,
          transaction,
        },
      );
      // Used, replaced or voided by a password change while the new one was being hashed.
      if (count === 0) throw invalid();
      await sessionService.revokeAllForUser(rows[0].id, 'password_reset', { transaction });
      logger.info('password reset', { userId: rows[0].id });
    });
  }

  async verifyEmail(token: string): Promise<void> {
    const user = await User.findByValidEmailVerificationToken(hashToken(token));
    if (!user) throw new BadRequestError('INVALID_OR_EXPIRED_TOKEN', 'This link is invalid or has expired');
    await user.update({ emailVerified: true, emailVerificationToken: null, emailVerificationExpires: null });
  }

  /** Mails a fresh verification link (the previous one stops working); nothing to do when already verified. */
  async resendVerification(userId: string): Promise<{ alreadyVerified: boolean }> {
    const user = await User.findByPk(userId);
    if (!user) throw new UnauthorizedError('INVALID_TOKEN', 'The access token is invalid');
    if (user.emailVerified) return { alreadyVerified: true };
    const token = randomToken(32);
    await user.update({ emailVerificationToken: hashToken(token), emailVerificationExpires: new Date(Date.now() + EMAIL_VERIFICATION_TTL_MS) });
    await sendEmail(user.email, 'email-verification', { name: user.name, verifyUrl: sealForMail(verificationUrl(token)) });
    return { alreadyVerified: false };
  }
}

export const authService = new AuthService();

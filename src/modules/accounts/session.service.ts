import { randomUUID } from 'node:crypto';
import { Op, type Transaction } from 'sequelize';
import { config } from '../../platform/config';
import { getSequelize } from '../../platform/db';
import { queryRows } from '../../platform/db/query';
import { UserSession } from '../../models';
import type { UserRole, UserStatus } from '../../models/enums';
import { UnauthorizedError } from '../../platform/utils/errors';
import { logger } from '../../platform/utils/logger';
import { durationMs, hashToken, randomToken, sameHash } from '../../platform/utils/tokens';
import { forgetSessionsOf } from './session-cache';
import { signAccessToken } from './token.service';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  status: UserStatus;
}

export type RevokeReason = 'logout' | 'password_change' | 'password_reset' | 'suspended' | 'refresh_token_reuse';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Refresh tokens are opaque: `<sessionId>.<secret>`. Only sha256(token) is stored; each use
 * replaces it and keeps the hash it replaced, so the token of the last rotation presented again
 * is recognised as a replayed copy. Session ids are no secret (every access token carries one):
 * a token that matches neither hash proves nothing and changes nothing.
 */
function parseRefreshToken(token: string): { sessionId: string } | undefined {
  const [sessionId, secret, extra] = token.split('.');
  if (extra !== undefined || !sessionId || !secret || !UUID.test(sessionId) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  return { sessionId };
}

function refreshExpiry(): Date {
  return new Date(Date.now() + durationMs(config.jwt.refreshExpiresIn));
}

function newRefreshToken(sessionId: string): string {
  return `${sessionId}.${randomToken(32)}`;
}

/**
 * This process forgets a user's cached session checks once a revocation is committed (the
 * database's notification does the same in every process, a moment later). Sequelize's own
 * transactions run afterCommit hooks even when COMMIT fails (inTransaction's do not): forgetting
 * then costs a cache miss, nothing more.
 */
function afterCommit(transaction: Transaction | undefined, forget: () => void): void {
  if (transaction) transaction.afterCommit(forget);
  else forget();
}

export class SessionService {
  /** Opens a session for a user who just proved who they are, and returns its first token pair. */
  async open(user: { id: string; role: string }, client: ClientInfo, options: { transaction?: Transaction } = {}): Promise<TokenPair> {
    const id = randomUUID();
    const refreshToken = newRefreshToken(id);
    await UserSession.create(
      {
        id,
        userId: user.id,
        refreshTokenHash: hashToken(refreshToken),
        userAgent: client.userAgent?.slice(0, 500) ?? null,
        ipAddress: client.ip?.slice(0, 64) ?? null,
        expiresAt: refreshExpiry(),
      },
      { transaction: options.transaction },
    );
    return { accessToken: signAccessToken(user.id, id, user.role), refreshToken };
  }

  /**
   * Rotates a refresh token: the old one stops working, a new pair is returned. Presenting the
   * token that was rotated away revokes the whole session (it was stolen, or leaked); a token
   * that was never this session's is refused without touching the session.
   */
  async refresh(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    const parsed = parseRefreshToken(refreshToken);
    const invalid = () => new UnauthorizedError('INVALID_REFRESH_TOKEN', 'The refresh token is invalid');
    if (!parsed) throw invalid();
    const presentedHash = hashToken(refreshToken);

    const outcome = await getSequelize().transaction(async (transaction) => {
      const session = await UserSession.findByPk(parsed.sessionId, { transaction, lock: transaction.LOCK.UPDATE });
      if (!session) return { error: invalid() };
      const isCurrent = sameHash(session.refreshTokenHash, presentedHash);
      const isRotated = !isCurrent && session.previousRefreshTokenHash !== null && sameHash(session.previousRefreshTokenHash, presentedHash);
      // Only the current token or the one rotated away proves anything, even that the session was revoked.
      // An older one is refused quietly: without its hash nothing shows it was ever this session's.
      if (!isCurrent && !isRotated) return { error: invalid() };
      if (session.revokedAt) return { error: new UnauthorizedError('TOKEN_REVOKED', 'This session has been revoked') };
      if (isRotated) {
        await session.update({ revokedAt: new Date(), revokedReason: 'refresh_token_reuse' }, { transaction });
        logger.warn('security: rotated refresh token reused; session revoked', {
          event: 'refresh_token_reuse',
          sessionId: session.id,
          userId: session.userId,
          ip: client.ip,
        });
        return { error: new UnauthorizedError('TOKEN_REVOKED', 'This refresh token was already used; the session has been revoked') };
      }
      if (session.expiresAt.getTime() <= Date.now()) {
        return { error: new UnauthorizedError('REFRESH_TOKEN_EXPIRED', 'The refresh token has expired') };
      }
      const [user] = await queryRows<{ role: string; status: UserStatus }>(
        'SELECT role, status FROM users WHERE id = $id',
        { id: session.userId },
        transaction,
      );
      if (!user || user.status !== 'approved') {
        return { error: new UnauthorizedError('TOKEN_REVOKED', 'This session is no longer valid') };
      }
      const rotated = newRefreshToken(session.id);
      await session.update(
        {
          refreshTokenHash: hashToken(rotated),
          previousRefreshTokenHash: session.refreshTokenHash,
          lastUsedAt: new Date(),
          expiresAt: refreshExpiry(),
          ipAddress: client.ip?.slice(0, 64) ?? session.ipAddress,
        },
        { transaction },
      );
      return { tokens: { accessToken: signAccessToken(session.userId, session.id, user.role), refreshToken: rotated } };
    });
    // The reuse revocation must stay committed, so the error is thrown after the transaction.
    if ('error' in outcome && outcome.error) throw outcome.error;
    return (outcome as { tokens: TokenPair }).tokens;
  }

  /**
   * The session and its user for an access token, in one indexed lookup and no write.
   * Undefined when the session does not exist (or its user was deleted).
   */
  async findActive(sessionId: string): Promise<{ user: SessionUser; revoked: boolean } | undefined> {
    // Every signed-in request runs this: one statement on the primary (a revocation counts at once), without Sequelize's per-call rewriting.
    const rows = await queryRows<SessionUser & { revokedAt: Date | null }>(
      `SELECT u.id, u.email, u.name, u.role, u.status, s.revoked_at AS "revokedAt"
         FROM user_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $sessionId`,
      { sessionId },
    );
    const row = rows[0];
    if (!row) return undefined;
    const { revokedAt, ...user } = row;
    return { user, revoked: revokedAt !== null };
  }

  async revoke(sessionId: string, reason: RevokeReason, options: { transaction?: Transaction } = {}): Promise<void> {
    const [, revoked] = await UserSession.update(
      { revokedAt: new Date(), revokedReason: reason },
      { where: { id: sessionId, revokedAt: null }, transaction: options.transaction, returning: true },
    );
    for (const session of revoked) afterCommit(options.transaction, () => forgetSessionsOf(session.userId));
  }

  /** Revokes every open session of a user, but the one named in `except`. */
  async revokeAllForUser(
    userId: string,
    reason: RevokeReason,
    options: { except?: string; transaction?: Transaction } = {},
  ): Promise<number> {
    const where = options.except
      ? { userId, revokedAt: null, id: { [Op.ne]: options.except } }
      : { userId, revokedAt: null };
    const [count] = await UserSession.update({ revokedAt: new Date(), revokedReason: reason }, { where, transaction: options.transaction });
    if (count > 0) afterCommit(options.transaction, () => forgetSessionsOf(userId));
    return count;
  }

  /** The session id inside a refresh token, when the token belongs to `userId` (for logout). */
  async sessionOfRefreshToken(refreshToken: string, userId: string): Promise<string | undefined> {
    const parsed = parseRefreshToken(refreshToken);
    if (!parsed) return undefined;
    const session = await UserSession.findOne({ where: { id: parsed.sessionId, userId }, attributes: ['id', 'refreshTokenHash'] });
    return session && sameHash(session.refreshTokenHash, hashToken(refreshToken)) ? session.id : undefined;
  }
}

export const sessionService = new SessionService();

import { authController as controller } from './auth.controller';
import { authenticate } from './auth.middleware';
import { accountRateLimit, authRateLimit, MAILS_PER_ADDRESS_PER_HOUR, mailRateLimit } from '../../platform/http/rate-limit.middleware';
import { validate, type ValidatedRequest } from '../../platform/http/validate.middleware';
import { ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './auth.schemas';

export const authRoutes = new ApiRouter('/api/auth', 'Auth')
  .post(
    '/register',
    {
      example: { email: 'ada@example.com', password: 'Correct-Horse-9', name: 'Ada Lovelace' },
      summary: 'Register a customer (signed in at once) or a seller (pending approval, no tokens)',
      status: 201,
      returns: 'user, accessToken?, refreshToken?',
      response: { user: ref('User'), accessToken: { type: 'string' }, refreshToken: { type: 'string' } },
      optional: ['accessToken', 'refreshToken'],
      errors: ['409 USER_EXISTS', '429 RATE_LIMIT_EXCEEDED'],
    },
    authRateLimit,
    validate(schemas.register),
    controller.register,
  )
  .post(
    '/login',
    {
      example: { email: 'demo.customer@example.com', password: 'the password printed at first start' },
      summary: 'Sign in with email and password',
      returns: 'user, accessToken, refreshToken',
      response: { user: ref('User'), accessToken: { type: 'string' }, refreshToken: { type: 'string' } },
      errors: ['401 INVALID_CREDENTIALS', '403 ACCOUNT_SUSPENDED', '403 ACCOUNT_PENDING', '403 ACCOUNT_REJECTED', '429 RATE_LIMIT_EXCEEDED'],
    },
    authRateLimit,
    validate(schemas.login),
    controller.login,
  )
  .post(
    '/refresh-token',
    {
      example: { refreshToken: 'paste the refreshToken of a sign-in' },
      summary: 'Trade a refresh token for a new pair (the old refresh token stops working)',
      description: 'Presenting a refresh token that was already rotated revokes the whole session.',
      returns: 'accessToken, refreshToken',
      response: { accessToken: { type: 'string' }, refreshToken: { type: 'string' } },
      errors: ['400 REFRESH_TOKEN_REQUIRED', '401 INVALID_REFRESH_TOKEN', '401 REFRESH_TOKEN_EXPIRED', '401 TOKEN_REVOKED'],
    },
    validate(schemas.refreshToken),
    controller.refreshToken,
  )
  .post('/logout', { example: {}, summary: 'End this session (and the one of refreshToken, when given)' }, authenticate, validate(schemas.logout), controller.logout)
  .get('/me', { summary: 'The signed-in user', returns: 'the user', response: ref('User') }, authenticate, validate({}), controller.me)
  .patch('/me', { example: { name: 'Ada King', avatarUrl: 'https://images.example.com/ada.png' }, summary: 'Change your name or avatar', returns: 'the user', response: ref('User') }, authenticate, validate(schemas.updateMe), controller.updateMe)
  .post(
    '/change-password',
    {
      example: { currentPassword: 'the password printed at first start', newPassword: 'Another-Horse-10' },
      summary: 'Change your password; your other sessions are signed out and an outstanding reset link stops working',
      errors: ['400 INVALID_CURRENT_PASSWORD', '429 RATE_LIMIT_EXCEEDED'],
    },
    authRateLimit,
    authenticate,
    accountRateLimit,
    validate(schemas.changePassword),
    controller.changePassword,
  )
  .post(
    '/forgot-password',
    {
      example: { email: 'demo.customer@example.com' },
      summary: 'Mail a password reset link (same answer whether the account exists or not)',
      description: `At most ${MAILS_PER_ADDRESS_PER_HOUR} requests per address and hour, whether an account has that address or not.`,
      errors: ['429 RATE_LIMIT_EXCEEDED'],
    },
    authRateLimit,
    validate(schemas.forgotPassword),
    // After validate(schemas.forgotPassword): the address as the controller reads it, trimmed and lowercased.
    mailRateLimit('password-reset', (req) => (req as ValidatedRequest<typeof schemas.forgotPassword>).validated.body.email),
    controller.forgotPassword,
  )
  .post(
    '/reset-password',
    {
    example: { token: 'the token of the reset link', password: 'Another-Horse-10' }, summary: 'Set a new password with a reset token (single use, 10 minutes); all sessions are signed out', errors: ['400 INVALID_OR_EXPIRED_TOKEN', '429 RATE_LIMIT_EXCEEDED'] },
    authRateLimit,
    validate(schemas.resetPassword),
    controller.resetPassword,
  )
  .post(
    '/verify-email',
    {
    example: { token: 'the token of the verification link' }, summary: 'Confirm an email address with the mailed token', errors: ['400 INVALID_OR_EXPIRED_TOKEN', '429 RATE_LIMIT_EXCEEDED'] },
    authRateLimit,
    validate(schemas.verifyEmail),
    controller.verifyEmail,
  )
  .post(
    '/resend-verification',
    {
      example: {},
      summary: 'Mail a new verification link',
      returns: 'alreadyVerified',
      response: { alreadyVerified: { type: 'boolean' } },
      description: `At most ${MAILS_PER_ADDRESS_PER_HOUR} per address and hour.`,
      errors: ['429 RATE_LIMIT_EXCEEDED'],
    },
    authRateLimit,
    authenticate,
    accountRateLimit,
    validate(schemas.empty),
    mailRateLimit('email-verification', (req) => req.auth?.user.email),
    controller.resendVerification,
  );

import type { Request, Response } from 'express';
import { currentAuth } from './auth.middleware';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './auth.schemas';
import { authService } from './auth.service';
import { signedIn } from './account-events';
import type { ClientInfo } from './session.service';
import { BadRequestError } from '../../platform/utils/errors';

function clientOf(req: Request): ClientInfo {
  return { ip: req.ip, userAgent: req.get('user-agent') };
}

export const authController = {
  register: handler(schemas.register, async (req, res) => {
    const body = req.validated.body;
    const result = await authService.register(body, clientOf(req));
    // What follows a sign-in (a guest cart joins its owner's) waits for approval for sellers.
    if (result.accessToken) await signedIn(result.user.id, (name) => req.get(name));
    const message =
      result.user.role === 'seller' ? 'Registered; the seller account is waiting for approval' : 'Registered';
    res.status(201).json({ success: true, data: result, message });
  }),

  login: handler(schemas.login, async (req, res) => {
    const { email, password } = req.validated.body;
    const result = await authService.login(email, password, clientOf(req));
    await signedIn(result.user.id, (name) => req.get(name));
    res.json({ success: true, data: result, message: 'Signed in' });
  }),

  refreshToken: handler(schemas.refreshToken, async (req, res) => {
    const { refreshToken } = req.validated.body;
    if (!refreshToken) throw new BadRequestError('REFRESH_TOKEN_REQUIRED', 'A refresh token is required');
    const tokens = await authService.refresh(refreshToken, clientOf(req));
    res.json({ success: true, data: tokens });
  }),

  logout: handler(schemas.logout, async (req, res) => {
    const auth = currentAuth(req);
    await authService.logout(auth.user.id, auth.sessionId, req.validated.body.refreshToken);
    res.json({ success: true, data: {}, message: 'Signed out' });
  }),

  async me(req: Request, res: Response) {
    res.json({ success: true, data: await authService.me(currentAuth(req).user.id) });
  },

  updateMe: handler(schemas.updateMe, async (req, res) => {
    res.json({ success: true, data: await authService.updateMe(currentAuth(req).user.id, req.validated.body), message: 'Profile updated' });
  }),

  changePassword: handler(schemas.changePassword, async (req, res) => {
    const auth = currentAuth(req);
    const { currentPassword, newPassword } = req.validated.body;
    await authService.changePassword(auth.user.id, auth.sessionId, currentPassword, newPassword);
    res.json({ success: true, data: {}, message: 'Password changed; other sessions were signed out' });
  }),

  forgotPassword: handler(schemas.forgotPassword, async (req, res) => {
    await authService.forgotPassword(req.validated.body.email);
    res.json({ success: true, data: {}, message: 'If an account exists for this email, a reset link has been sent' });
  }),

  resetPassword: handler(schemas.resetPassword, async (req, res) => {
    const { token, password } = req.validated.body;
    await authService.resetPassword(token, password);
    res.json({ success: true, data: {}, message: 'Password reset; please sign in' });
  }),

  verifyEmail: handler(schemas.verifyEmail, async (req, res) => {
    await authService.verifyEmail(req.validated.body.token);
    res.json({ success: true, data: {}, message: 'Email verified' });
  }),

  async resendVerification(req: Request, res: Response) {
    const { alreadyVerified } = await authService.resendVerification(currentAuth(req).user.id);
    res.json({ success: true, data: { alreadyVerified }, message: alreadyVerified ? 'Email already verified' : 'Verification email sent' });
  },
};

import Joi from 'joi';
import { email, httpUrl, opaqueToken, password, personName } from './common.schemas';

export const register = {
  body: Joi.object({
    email: email.required(),
    password: password.required(),
    name: personName.required(),
    role: Joi.string().valid('customer', 'seller').default('customer'),
    storeName: personName.when('role', { is: 'seller', then: Joi.required(), otherwise: Joi.forbidden() }),
    storeDescription: Joi.string().trim().max(2000).allow('').when('role', { is: 'seller', otherwise: Joi.forbidden() }),
  }),
};

export const login = {
  body: Joi.object({ email: email.required(), password: Joi.string().max(128).required() }),
};

// Long enough for anything a client may mistake for a refresh token (an access token is ~300
// characters), so the answer is the contract's 401 rather than a validation error.
const presentedRefreshToken = Joi.string().trim().max(2000);

export const refreshToken = {
  body: Joi.object({ refreshToken: presentedRefreshToken.allow('') }),
};

export const logout = {
  body: Joi.object({ refreshToken: presentedRefreshToken }),
};

export const updateMe = {
  body: Joi.object({ name: personName, avatarUrl: httpUrl.allow(null) }).min(1),
};

export const changePassword = {
  body: Joi.object({
    currentPassword: Joi.string().max(128).required(),
    newPassword: password.required().invalid(Joi.ref('currentPassword')).messages({ 'any.invalid': 'newPassword must differ from currentPassword' }),
  }),
};

export const forgotPassword = {
  body: Joi.object({ email: email.required() }),
};

export const resetPassword = {
  body: Joi.object({ token: opaqueToken.required(), password: password.required() }),
};

export const verifyEmail = {
  body: Joi.object({ token: opaqueToken.required() }),
};

export const empty = {
  body: Joi.object({}),
};

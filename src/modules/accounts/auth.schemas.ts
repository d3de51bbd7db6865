import Joi from 'joi';
import { email, httpUrl, objectOf, oneOf, opaqueToken, password, personName } from '../../platform/http/common.schemas';
import type { RegisterInput } from './auth.service';

export const register = {
  body: objectOf<RegisterInput>()({
    email: email.required(),
    password: password.required(),
    name: personName.required(),
    role: oneOf('customer', 'seller').default('customer'),
    storeName: personName.when('role', { is: 'seller', then: Joi.required(), otherwise: Joi.forbidden() }),
    storeDescription: Joi.string().trim().max(2000).allow('').when('role', { is: 'seller', otherwise: Joi.forbidden() }),
  }),
};

export const login = {
  body: objectOf<{ email: string; password: string }>()({ email: email.required(), password: Joi.string().max(128).required() }),
};

// Long enough for anything a client may mistake for a refresh token (an access token is ~300
// characters), so the answer is the contract's 401 rather than a validation error.
const presentedRefreshToken = Joi.string().trim().max(2000);

export const refreshToken = {
  body: objectOf<{ refreshToken?: string }>()({ refreshToken: presentedRefreshToken.allow('') }),
};

export const logout = {
  body: objectOf<{ refreshToken?: string }>()({ refreshToken: presentedRefreshToken }),
};

export interface UpdateMeBody {
  name?: string;
  avatarUrl?: string | null;
}

export const updateMe = {
  body: objectOf<UpdateMeBody>()({ name: personName, avatarUrl: httpUrl.allow(null) }).min(1),
};

export const changePassword = {
  body: objectOf<{ currentPassword: string; newPassword: string }>()({
    currentPassword: Joi.string().max(128).required(),
    newPassword: password.required().invalid(Joi.ref('currentPassword')).messages({ 'any.invalid': 'newPassword must differ from currentPassword' }),
  }),
};

export const forgotPassword = {
  body: objectOf<{ email: string }>()({ email: email.required() }),
};

export const resetPassword = {
  body: objectOf<{ token: string; password: string }>()({ token: opaqueToken.required(), password: password.required() }),
};

export const verifyEmail = {
  body: objectOf<{ token: string }>()({ token: opaqueToken.required() }),
};

export const empty = {
  body: Joi.object<Record<string, never>>({}),
};

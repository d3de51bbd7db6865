import type { Express } from 'express';
import request from 'supertest';
import { createUser, DEFAULT_PASSWORD, type UserOverrides } from '../fixtures';
import type { User } from '../../src/models';

export interface SignedIn {
  user: User;
  accessToken: string;
  refreshToken: string;
  /** `Authorization` header value. */
  bearer: string;
}

/** Signs in through the API, as a client would. */
export async function login(app: Express, email: string, password = DEFAULT_PASSWORD): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await request(app).post('/api/auth/login').send({ email, password });
  if (res.status !== 200) throw new Error(`login of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { accessToken: res.body.data.accessToken, refreshToken: res.body.data.refreshToken };
}

/** A user made by the factory, then signed in through the API. */
export async function signedInUser(app: Express, overrides: UserOverrides = {}): Promise<SignedIn> {
  const password = (overrides.password as string | undefined) ?? DEFAULT_PASSWORD;
  const user = await createUser(overrides);
  const tokens = await login(app, user.email, password);
  return { user, ...tokens, bearer: `Bearer ${tokens.accessToken}` };
}

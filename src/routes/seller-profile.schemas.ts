import Joi from 'joi';
import { httpUrl } from './common.schemas';

export const updateProfile = {
  body: Joi.object({
    storeName: Joi.string().trim().min(2).max(100),
    storeDescription: Joi.string().trim().max(2000).allow('', null),
    logoUrl: httpUrl.allow(null),
    payoutDetails: Joi.object()
      .pattern(Joi.string().max(50), Joi.alternatives(Joi.string().max(200), Joi.number(), Joi.boolean()))
      .max(20)
      .allow(null),
  }).min(1),
};

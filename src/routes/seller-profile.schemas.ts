import Joi from 'joi';
import { httpUrl, personName } from './common.schemas';

export const updateProfile = {
  body: Joi.object({
    // A store name reaches mails and pages: one line, no control characters, like a person's name.
    storeName: personName,
    storeDescription: Joi.string().trim().max(2000).allow('', null),
    logoUrl: httpUrl.allow(null),
    payoutDetails: Joi.object()
      .pattern(Joi.string().max(50), Joi.alternatives(Joi.string().max(200), Joi.number(), Joi.boolean()))
      .max(20)
      .allow(null),
  }).min(1),
};

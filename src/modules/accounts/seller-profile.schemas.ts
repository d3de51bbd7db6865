import Joi from 'joi';
import { httpUrl, objectOf, personName } from '../../platform/http/common.schemas';

export interface SellerProfileBody {
  storeName?: string;
  storeDescription?: string | null;
  logoUrl?: string | null;
  payoutDetails?: Record<string, string | number | boolean> | null;
}

export const updateProfile = {
  body: objectOf<SellerProfileBody>()({
    // A store name reaches mails and pages: one line, no control characters, like a person's name.
    storeName: personName,
    storeDescription: Joi.string().trim().max(2000).allow('', null),
    logoUrl: httpUrl.allow(null),
    payoutDetails: Joi.object<Record<string, string | number | boolean>>()
      .pattern(Joi.string().max(50), Joi.alternatives(Joi.string().max(200), Joi.number(), Joi.boolean()))
      .max(20)
      .allow(null),
  }).min(1),
};

import Joi from 'joi';
import { addressFields, idParams, objectOf, oneLine } from '../../platform/http/common.schemas';
import type { AddressChanges, AddressInput } from './address.service';

const bookFields = {
  label: oneLine(50).allow('', null).description('Your name for it, e.g. Home'),
  isDefaultShipping: Joi.boolean().description('Checkout ships here unless told otherwise; the previous default stops being one'),
  isDefaultBilling: Joi.boolean(),
};

export const create = { body: objectOf<AddressInput>()({ ...addressFields, ...bookFields }) };

export const update = {
  params: idParams,
  notFound: 'Address',
  body: objectOf<AddressChanges>()({
    firstName: addressFields.firstName.optional(),
    lastName: addressFields.lastName.optional(),
    address1: addressFields.address1.optional(),
    address2: addressFields.address2,
    city: addressFields.city.optional(),
    state: addressFields.state,
    postalCode: addressFields.postalCode.optional(),
    country: addressFields.country.optional(),
    phone: addressFields.phone,
    ...bookFields,
  }).min(1),
};

export const byId = { params: idParams, notFound: 'Address' };

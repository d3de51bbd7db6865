import { sellerProfileController as controller } from './seller-profile.controller';
import { authenticate, authorize } from './auth.middleware';
import { validate } from '../../platform/http/validate.middleware';
import { ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './seller-profile.schemas';

export const sellerProfileRoutes = new ApiRouter('/api/seller', 'Seller dashboard')
  .get('/profile', { summary: 'Your store profile, with payout details', returns: 'the profile', response: ref('SellerProfile') }, authenticate, authorize('seller'), validate({}), controller.get)
  .patch('/profile', { example: { storeName: 'Tech Haven', storeDescription: 'Gadgets, tested before they ship' }, summary: 'Change your store name, description, logo or payout details', returns: 'the profile', response: ref('SellerProfile') }, authenticate, authorize('seller'), validate(schemas.updateProfile), controller.update);

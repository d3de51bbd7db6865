import { categoryController as controller } from './category.controller';
import { authenticate, authorize } from '../accounts';
import { publicCache } from '../../platform/http/public-cache.middleware';
import { validate } from '../../platform/http/validate.middleware';
import { listOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './category.schemas';

export const categoryRoutes = new ApiRouter('/api/categories', 'Catalog: categories')
  .get('/', { summary: 'Every category, as a tree of children', returns: 'categories', response: { categories: listOf('CategoryNode') } }, publicCache, validate({}), controller.tree)
  .get(
    '/:id',
    { summary: 'A category by id or slug, with its sub-categories and its number of listed products (sub-categories included)', returns: 'the category with children, productCount', response: ref('CategoryDetail'), errors: ['404 CATEGORY_NOT_FOUND'] },
    publicCache,
    validate(schemas.show),
    controller.get,
  )
  .post('/', { example: { name: 'Garden', description: 'Tools and furniture for the outdoors', sortOrder: 5 }, summary: 'Create a category', status: 201, returns: 'the category', response: ref('Category'), errors: ['400 CATEGORY_TOO_DEEP', '409 CATEGORY_EXISTS'] }, authenticate, authorize('admin'), validate(schemas.create), controller.create)
  .patch(
    '/:id',
    {
    example: { description: 'Tools, furniture and plants for the outdoors' }, summary: 'Change or move a category', returns: 'the category', response: ref('Category'), errors: ['400 CATEGORY_CYCLE', '400 CATEGORY_TOO_DEEP', '404 CATEGORY_NOT_FOUND', '409 CATEGORY_EXISTS'] },
    authenticate,
    authorize('admin'),
    validate(schemas.update),
    controller.update,
  )
  .delete(
    '/:id',
    { summary: 'Delete an empty category', returns: 'id', response: { id: { type: 'string', format: 'uuid' } }, errors: ['404 CATEGORY_NOT_FOUND', '409 CATEGORY_NOT_EMPTY'] },
    authenticate,
    authorize('admin'),
    validate(schemas.byId),
    controller.remove,
  );

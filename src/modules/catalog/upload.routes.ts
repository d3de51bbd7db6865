import { uploadController as controller } from './upload.controller';
import { authenticate, authorize } from '../accounts';
import { acceptImages } from './upload.middleware';
import { validate } from '../../platform/http/validate.middleware';
import { listOf, ref } from '../../platform/http/response.schemas';
import { ApiRouter } from '../../platform/http/openapi';
import * as schemas from './upload.schemas';

/** Files per request on /images, as the contract says. */
const MAX_IMAGES = 10;

const fileErrors = [
  '400 NO_FILE',
  '400 INVALID_FILE_TYPE',
  '400 IMAGE_TOO_LARGE',
  '400 TOO_MANY_FILES',
  '400 UNEXPECTED_FIELD',
  '400 INVALID_MULTIPART',
  '413 FILE_TOO_LARGE',
  '429 RATE_LIMIT_EXCEEDED',
  '502 STORAGE_PROVIDER_ERROR',
  '503 STORAGE_UNAVAILABLE',
];

const contentRule =
  'Each file must decode as a whole JPEG, PNG, WebP or GIF image (checked by content) of at most UPLOAD_MAX_PIXELS pixels ' +
  '(default 40 megapixels; all frames of an animation together). A user may upload UPLOAD_MAX_PER_HOUR images (default 100) in any hour.';

// Authentication and the hourly limit run before the body is read: nobody else's bytes reach the disk.
export const uploadRoutes = new ApiRouter('/api/upload', 'Uploads')
  .post(
    '/image',
    {
      summary: 'Upload one image (JPEG, PNG, WebP or GIF, checked by content)',
      description: `multipart/form-data with the file in the field \`image\`; any other part is refused. ${contentRule}`,
      status: 201,
      returns: 'url, publicId, width, height, format, bytes',
      response: ref('Upload'),
      errors: fileErrors,
    },
    authenticate,
    validate(schemas.uploadImage),
    controller.checkHourlyLimit,
    acceptImages('image', 1),
    controller.uploadImage,
  )
  .post(
    '/images',
    {
      summary: `Upload up to ${MAX_IMAGES} images at once (sellers and admins)`,
      description: `multipart/form-data with the files in the field \`images\`. If one file is refused, none is stored. ${contentRule}`,
      status: 201,
      returns: 'images: [{url, publicId, width, height, format, bytes}]',
      response: { images: listOf('Upload') },
      errors: fileErrors,
    },
    authenticate,
    authorize('seller', 'admin'),
    validate(schemas.uploadImages),
    controller.checkHourlyLimit,
    acceptImages('images', MAX_IMAGES),
    controller.uploadImages,
  )
  .delete(
    '/:publicId',
    {
      summary: 'Delete an image you uploaded (admins: any image)',
      description: "Someone else's upload is answered as not found. An image that a product or one of its variants (not deleted) still shows is not deleted: remove it from them first.",
      errors: ['404 UPLOAD_NOT_FOUND', '409 UPLOAD_IN_USE', '502 STORAGE_PROVIDER_ERROR', '503 STORAGE_UNAVAILABLE'],
    },
    authenticate,
    validate(schemas.deleteImage),
    controller.deleteImage,
  );

import crypto from 'node:crypto';

/** "Café Déjà Vu!" → "cafe-deja-vu"; never empty. */
export function slugify(text: string, maxLength = 100): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, maxLength)
    .replace(/-+$/g, '');
  return slug || crypto.randomBytes(4).toString('hex');
}

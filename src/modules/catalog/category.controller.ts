import type { Request, Response } from 'express';
import { handler } from '../../platform/http/validate.middleware';
import * as schemas from './category.schemas';
import { categoryNodeJson, categoryService, categoryTreeJson } from './category.service';

export const categoryController = {
  // Trees are written as JSON text by categoryTreeJson (no recursion limit), not by res.json.
  async tree(_req: Request, res: Response) {
    const categories = categoryTreeJson(await categoryService.tree());
    res.type('application/json').send(`{"success":true,"data":{"categories":${categories}}}`);
  },

  get: handler(schemas.show, async (req, res) => {
    const category = categoryNodeJson(await categoryService.get(req.validated.params.idOrSlug));
    res.type('application/json').send(`{"success":true,"data":${category}}`);
  }),

  create: handler(schemas.create, async (req, res) => {
    res.status(201).json({ success: true, data: await categoryService.create(req.validated.body), message: 'Category created' });
  }),

  update: handler(schemas.update, async (req, res) => {
    res.json({ success: true, data: await categoryService.update(req.validated.params.id, req.validated.body), message: 'Category updated' });
  }),

  remove: handler(schemas.byId, async (req, res) => {
    await categoryService.remove(req.validated.params.id);
    res.json({ success: true, data: { id: req.validated.params.id }, message: 'Category deleted' });
  }),
};

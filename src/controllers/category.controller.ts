import type { Request, Response } from 'express';
import { categoryNodeJson, categoryService, categoryTreeJson } from '../services/category.service';

export const categoryController = {
  // Trees are written as JSON text by categoryTreeJson (no recursion limit), not by res.json.
  async tree(_req: Request, res: Response) {
    const categories = categoryTreeJson(await categoryService.tree());
    res.type('application/json').send(`{"success":true,"data":{"categories":${categories}}}`);
  },

  async get(req: Request, res: Response) {
    const category = categoryNodeJson(await categoryService.get(req.validated.params.idOrSlug));
    res.type('application/json').send(`{"success":true,"data":${category}}`);
  },

  async create(req: Request, res: Response) {
    res.status(201).json({ success: true, data: await categoryService.create(req.validated.body), message: 'Category created' });
  },

  async update(req: Request, res: Response) {
    res.json({ success: true, data: await categoryService.update(req.validated.params.id, req.validated.body), message: 'Category updated' });
  },

  async remove(req: Request, res: Response) {
    await categoryService.remove(req.validated.params.id);
    res.json({ success: true, data: { id: req.validated.params.id }, message: 'Category deleted' });
  },
};

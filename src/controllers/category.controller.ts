import type { Request, Response } from 'express';
import { categoryService } from '../services/category.service';

export const categoryController = {
  async tree(_req: Request, res: Response) {
    res.json({ success: true, data: { categories: await categoryService.tree() } });
  },

  async get(req: Request, res: Response) {
    res.json({ success: true, data: await categoryService.get(req.validated.params.idOrSlug) });
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

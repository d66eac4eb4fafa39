import { Router } from 'express';
import type { SaleBoard } from '../sale-board';

/** `/api/sales…`: the sales known and each sale's live lane snapshots. */
export function salesRoutes(board: SaleBoard): Router {
  const router = Router();
  router.get('/sales', (_req, res) => {
    res.json(board.sales());
  });
  router.get('/sales/:sale/lanes', (req, res) => {
    const view = board.view(req.params.sale);
    if (!view) res.status(404).json({ error: `unknown sale ${JSON.stringify(req.params.sale)}` });
    else res.json(view.lanes);
  });
  return router;
}

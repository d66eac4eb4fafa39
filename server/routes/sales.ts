import { Router } from 'express';
import type { InfluxStore } from '../../storage/influxdb';
import { mergeSales, storedSales } from '../history/sales';
import { archivedSummary } from '../history/summaries';
import type { SaleBoard } from '../sale-board';

/** `/api/sales…` and `/api/auctions…`: the sales known, each sale's live lanes and summary, a site's summary. */
export function salesRoutes(board: SaleBoard, influx: () => InfluxStore | undefined): Router {
  const router = Router();
  router.get('/sales', async (_req, res) => {
    // Older sales live only in InfluxDB; the board's own entry wins for a sale it holds.
    const store = influx();
    const stored = store ? await storedSales(store).catch(() => []) : [];
    res.json(mergeSales(board.sales(), stored));
  });
  router.get('/sales/:sale/lanes', (req, res) => {
    const view = board.view(req.params.sale);
    if (!view) res.status(404).json({ error: `unknown sale ${JSON.stringify(req.params.sale)}` });
    else res.json(view.lanes);
  });
  router.get('/sales/:sale/summary', async (req, res) => {
    const { sale } = req.params;
    // A sale retired from memory left its final summary in InfluxDB.
    const store = influx();
    const summary = board.summary(sale) ?? (store ? await archivedSummary(store, sale) : undefined);
    if (!summary) res.status(404).json({ error: `unknown sale ${JSON.stringify(sale)}` });
    else res.json(summary);
  });
  router.get('/auctions/:auction/summary', (req, res) => {
    const summary = board.siteSummary(req.params.auction);
    if (!summary) res.status(404).json({ error: `unknown auction ${JSON.stringify(req.params.auction)}` });
    else res.json(summary);
  });
  return router;
}

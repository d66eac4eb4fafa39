/** The rules for which sale the board shows; `SalePicker` applies them over time. */
import type { SaleInfo } from '../../../server/wire';

/** The sale pinned by the page URL (`?sale=ID`), if any. */
export function saleFromUrl(search: string): string | null {
  return new URLSearchParams(search).get('sale') || null;
}

/** The newest open sale. Relies on `GET /api/sales` listing newest first. */
export function newestOpenSale(sales: readonly SaleInfo[]): SaleInfo | undefined {
  return sales.find((sale) => sale.state === 'open');
}

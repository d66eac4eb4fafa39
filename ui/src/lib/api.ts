/** The server's REST API (../../../shared/API.md), as far as the wall display uses it. */
import type { SaleInfo } from '../../../server/wire';

/** `GET /api/sales`: every sale the server knows, newest first. Throws on a failed request. */
export async function fetchSales(signal: AbortSignal): Promise<SaleInfo[]> {
  const response = await fetch('/api/sales', { signal, headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET /api/sales answered ${response.status}`);
  return (await response.json()) as SaleInfo[];
}

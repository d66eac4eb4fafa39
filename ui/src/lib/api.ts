/** The server's REST API (../../../shared/API.md), as far as the wall display uses it. */
import type { SaleInfo } from '../../../server/wire';
import { getJson } from './connection';

/** `GET /api/sales`: every sale the server knows, newest first. Throws on a failed request. */
export function fetchSales(signal: AbortSignal): Promise<SaleInfo[]> {
  return getJson<SaleInfo[]>('/api/sales', signal);
}

/**
 * `GET /api/sales/:sale/lanes/:lane/history`: a lane's online bidders from `from` to `to`
 * (inclusive, event time), the last value of each `stepSec` bucket. Throws on a failed request.
 */
export async function fetchAttendance(
  sale: string,
  lane: string,
  range: { from: number; to: number; stepSec: number },
  signal: AbortSignal,
): Promise<[ts: number, online: number][]> {
  const query = new URLSearchParams({
    metric: 'onlineBidders',
    from: String(range.from),
    to: String(range.to),
    step: `${range.stepSec}s`,
  });
  const path = `/api/sales/${encodeURIComponent(sale)}/lanes/${encodeURIComponent(lane)}/history?${query}`;
  return (await getJson<{ points: [number, number][] }>(path, signal)).points;
}

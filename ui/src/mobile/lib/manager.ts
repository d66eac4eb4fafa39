/**
 * The name a manager acknowledges and snoozes under, entered once per phone. The page keeps it in
 * localStorage; the service worker, which cannot read localStorage, gets a copy in the Cache API
 * (the one store both see without IndexedDB's ceremony) for the notification's Acknowledge button.
 */

const STORAGE_KEY = 'lanewatch.manager';
const CACHE = 'lanewatch-m';
const CACHE_URL = '/m/manager-name';

/** The page's copy, or null before the manager entered one. */
export function loadName(): string | null {
  return localStorage.getItem(STORAGE_KEY);
}

/** Saves for the page and for the service worker. Rejects when the worker's copy cannot be written. */
export async function saveName(name: string): Promise<void> {
  localStorage.setItem(STORAGE_KEY, name);
  // Outside a secure context (plain http to a LAN address) there is no Cache API and no worker either.
  if (!('caches' in globalThis)) return;
  const cache = await caches.open(CACHE);
  await cache.put(CACHE_URL, new Response(name, { headers: { 'content-type': 'text/plain' } }));
}

/** The service worker's copy, or null when the page never saved one. */
export async function workerName(): Promise<string | null> {
  const cache = await caches.open(CACHE);
  const response = await cache.match(CACHE_URL);
  return response ? await response.text() : null;
}

/** Which sale the wall display shows, kept current (see `SalePicker`). */
import { fetchSales } from './api';
import { NotLoggedInError } from './connection';
import { newestOpenSale, saleFromUrl } from './choose-sale';

/** Until a sale is open, ask often so the board lights up within seconds of the sale opening. */
const WAITING_POLL_MS = 5_000;
/** Once a sale is on screen, a slower look suffices to catch the next sale on a board left running. */
const RECHECK_MS = 30_000;

/**
 * The sale pinned in the URL, else the newest open sale from the server: polled every 5 s until one
 * exists, then re-checked every 30 s so the board moves on to a newer open sale by itself. When no
 * sale is open any more, the board stays on the last one (its final figures remain useful).
 */
export class SalePicker {
  sale = $state<string | null>(null);
  /** Why the last look at the sale list failed; `null` once it succeeds. */
  problem = $state<string | null>(null);
  /** The server wants a login (or a kiosk token) before it lists sales. */
  needsLogin = $state(false);
  readonly #pinned: boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abort = new AbortController();

  constructor(search: string) {
    this.sale = saleFromUrl(search);
    this.#pinned = this.sale !== null;
  }

  /** Begins polling unless the URL pinned a sale. Called when the board mounts. */
  start(): void {
    if (this.#pinned) return;
    this.#abort = new AbortController();
    void this.#check(this.#abort.signal);
  }

  /** Stops polling, including a request in flight. Called when the board unmounts. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#abort.abort();
  }

  async #check(signal: AbortSignal): Promise<void> {
    try {
      const newest = newestOpenSale(await fetchSales(signal));
      if (newest && newest.sale !== this.sale) this.sale = newest.sale;
      this.problem = null;
      this.needsLogin = false;
    } catch (error) {
      if (!signal.aborted) this.problem = error instanceof Error ? error.message : String(error);
      this.needsLogin = error instanceof NotLoggedInError;
    }
    if (signal.aborted) return;
    this.#timer = setTimeout(() => void this.#check(signal), this.sale === null ? WAITING_POLL_MS : RECHECK_MS);
  }
}

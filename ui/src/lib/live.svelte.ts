/** The `/live` socket.io namespace (../../../shared/API.md): one sale's lanes and totals, kept current. */
import { io, type Socket } from 'socket.io-client';
import { SvelteMap } from 'svelte/reactivity';
import type { ClientToServerEvents, LaneSnapshot, SaleTotals, ServerToClientEvents } from '../../../server/wire';

/**
 * `reconnecting`: socket.io is trying by itself (the first attempt, then retries with backoff).
 * `disconnected`: it will not retry — the server closed the connection or the board was told to stop.
 */
export type ConnectionState = 'connected' | 'reconnecting' | 'disconnected';

/** A `watch` without an answer by then is sent again: the server may have missed it mid-restart. */
const WATCH_TIMEOUT_MS = 5_000;

const laneOrder = new Intl.Collator('en', { numeric: true });

/**
 * A live view of one sale. Connects on construction and (re)sends `watch` on every connect; the
 * server then sends every lane, followed by only the lanes that changed, which are merged by lane
 * id, so a lane keeps its last figures until the server says otherwise. `close()` ends it for good.
 */
export class LiveSale {
  connection = $state<ConnectionState>('reconnecting');
  /** The server's reason for refusing `watch`, if it did. */
  watchError = $state<string | null>(null);
  totals = $state.raw<SaleTotals | null>(null);
  readonly #lanes = new SvelteMap<string, LaneSnapshot>();
  /** Lanes in lane-number order ("2" before "10"). */
  readonly lanes = $derived([...this.#lanes.values()].sort((a, b) => laneOrder.compare(a.lane, b.lane)));
  readonly #socket: Socket<ServerToClientEvents, ClientToServerEvents>;

  constructor(readonly sale: string) {
    this.#socket = io('/live');
    this.#socket.on('connect', () => {
      this.connection = 'connected';
      this.#watch();
    });
    this.#socket.on('disconnect', () => this.#onConnectionLost());
    this.#socket.on('connect_error', () => this.#onConnectionLost());
    this.#socket.on('lanes', (lanes) => {
      for (const lane of lanes) this.#lanes.set(lane.lane, lane);
    });
    this.#socket.on('sale', (totals) => {
      this.totals = totals;
    });
  }

  close(): void {
    this.#socket.disconnect();
  }

  #onConnectionLost(): void {
    this.connection = this.#socket.active ? 'reconnecting' : 'disconnected';
  }

  #watch(): void {
    this.#socket.timeout(WATCH_TIMEOUT_MS).emit('watch', { sale: this.sale }, (timedOut, reply) => {
      if (timedOut) {
        if (this.#socket.connected) this.#watch();
        return;
      }
      this.watchError = reply.ok ? null : reply.error;
    });
  }
}

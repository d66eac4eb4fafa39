import type { Namespace, Server } from 'socket.io';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { SaleBoard } from './sale-board';
import { WallFeed, type WallAlerts } from './wall-feed';
import type { ClientToServerEvents, LaneSnapshot, ServerToClientEvents } from './wire';

const watchRequest = z.object({
  sale: z.string().min(1).max(200),
  view: z.literal('wall').optional(),
  resume: z.boolean().optional(),
});
const roomOf = (sale: string) => `sale:${sale}`;
const wallRoomOf = (sale: string) => `wall:${sale}`;
/** A second is cut into this many slots; each lane of a wall goes out in its own, so the load spreads. */
const SLOTS = 10;

export type { WallAlerts };

export interface LiveFeedOptions {
  alerts?: WallAlerts;
  /** The wall display build being served (./ui-build), for kiosks to reload on a new one. */
  build?: () => string | null;
  /**
   * The wall charts' bands and markers as the restart checkpoint kept them (`wallCharts()`);
   * ignored, with a warning, when they cannot be read.
   */
  wallCharts?: string;
}

/**
 * The `/live` namespace (../shared/API.md): a client watches one sale. By default it gets every lane
 * at once, then — at most once a second — only the lanes whose figures changed, plus the sale
 * totals. A wall display (`view: 'wall'`) gets `wall` deltas instead (./wall-feed): each lane's
 * tile and chart changes at most once a second, the lanes spread over the second, and the header's
 * chart, alert ticker and sales board. Every watcher gets a `heartbeat` each second.
 */
export class LiveFeed {
  private readonly namespace: Namespace<ClientToServerEvents, ServerToClientEvents>;
  /** What each sale's room was last sent, per lane, to send only what changed. */
  private readonly lastSent = new Map<string, Map<string, string>>();
  private readonly wall: WallFeed;
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

  constructor(
    io: Server,
    private readonly board: SaleBoard,
    private readonly log: Logger,
    private readonly options: LiveFeedOptions = {},
  ) {
    this.wall = new WallFeed(board, options.alerts);
    if (options.wallCharts !== undefined) this.restoreWallCharts(options.wallCharts);
    this.namespace = io.of('/live');
    this.namespace.on('connection', (socket) => {
      socket.on('watch', (request, ack) => {
        const reply = typeof ack === 'function' ? ack : () => {};
        const parsed = watchRequest.safeParse(request);
        if (!parsed.success) return reply({ ok: false, error: 'watch needs { sale: string }' });
        const { sale, view, resume } = parsed.data;
        const state = this.board.saleState(sale);
        if (!state) return reply({ ok: false, error: `unknown sale ${JSON.stringify(sale)}` });
        for (const room of socket.rooms)
          if (room.startsWith('sale:') || room.startsWith('wall:')) void socket.leave(room);
        const beat = { sale, now: state.now, build: this.build() };
        if (view === 'wall') {
          void socket.join(wallRoomOf(sale));
          // A new or reconnecting screen starts from what the sale's screens hold.
          const { delta, totals, liveFrom } = this.wall.join(state.sale, state.now, resume === true);
          socket.emit('wall', delta);
          if (totals) socket.emit('sale', totals);
          socket.emit('heartbeat', beat);
          return reply({ ok: true, data: { sale, liveFrom, chartStepSec: this.board.options.chartStepSec } });
        }
        void socket.join(roomOf(sale));
        const whole = this.board.view(sale);
        if (whole) {
          socket.emit('lanes', whole.lanes);
          socket.emit('sale', whole.totals);
        }
        socket.emit('heartbeat', beat);
        reply({ ok: true, data: { sale } });
      });
    });
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), 1000 / SLOTS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One slot: its share of every watched wall's lanes; on the first slot of a second, the rest. */
  tick(): void {
    const slot = this.ticks++ % SLOTS;
    if (slot === 0) this.broadcast();
    for (const sale of this.watched('wall')) {
      const state = this.board.saleState(sale);
      if (!state) continue;
      const lanes = this.wall.lanes(state.sale, state.now, slot, SLOTS);
      if (lanes.length > 0) this.namespace.local.to(wallRoomOf(sale)).emit('wall', { sale, lanes });
    }
  }

  /**
   * Once a second: each watched sale's heartbeat and totals, its changed lanes to the default
   * view and its header to the wall view. Every node has the same figures and sends them to its
   * own screens only.
   */
  broadcast(): void {
    this.wall.sample();
    const build = this.build();
    for (const sale of this.watched('sale')) {
      const view = this.board.view(sale);
      if (!view) continue;
      const to = this.namespace.local.to(roomOf(sale));
      to.emit('heartbeat', { sale, now: view.totals.asOf, build });
      const changed = this.changedLanes(sale, view.lanes);
      if (changed.length > 0) to.emit('lanes', changed);
      to.emit('sale', view.totals);
    }
    const walls = this.watched('wall');
    for (const sale of walls) {
      const state = this.board.saleState(sale);
      if (!state) continue;
      const to = this.namespace.local.to(wallRoomOf(sale));
      to.emit('heartbeat', { sale, now: state.now, build });
      const { header, totals } = this.wall.header(state.sale, state.now);
      if (totals) to.emit('sale', totals);
      if (header) to.emit('wall', { sale, lanes: [], header });
    }
    this.wall.forget(walls);
    this.forgetUnwatched();
  }

  /** The wall charts' bands and markers, for the server to checkpoint with the engine they were drawn from. */
  wallCharts(): string {
    return this.wall.chartHistory();
  }

  /** A checkpoint the charts cannot be restored from costs their bands and markers, not the start. */
  private restoreWallCharts(text: string): void {
    try {
      this.wall.restoreChartHistory(text);
    } catch (error) {
      this.log.warn(
        { err: error },
        'the wall charts in the checkpoint cannot be restored; their bands and markers start afresh',
      );
    }
  }

  private build(): string | null {
    return this.options.build?.() ?? null;
  }

  /** The sales this node's screens watch in the `sale:` or `wall:` rooms. */
  private watched(kind: 'sale' | 'wall'): Set<string> {
    const sales = new Set<string>();
    for (const [room, members] of this.namespace.adapter.rooms) {
      if (members.size > 0 && room.startsWith(`${kind}:`)) sales.add(room.slice(kind.length + 1));
    }
    return sales;
  }

  private changedLanes(sale: string, lanes: readonly LaneSnapshot[]): LaneSnapshot[] {
    let sent = this.lastSent.get(sale);
    if (!sent) this.lastSent.set(sale, (sent = new Map()));
    const changed: LaneSnapshot[] = [];
    for (const lane of lanes) {
      const serialized = JSON.stringify(lane);
      if (sent.get(lane.lane) === serialized) continue;
      sent.set(lane.lane, serialized);
      changed.push(lane);
    }
    return changed;
  }

  private forgetUnwatched(): void {
    for (const sale of this.lastSent.keys()) {
      if (!this.namespace.adapter.rooms.has(roomOf(sale))) {
        this.lastSent.delete(sale);
        this.log.debug({ sale }, 'no screen watches the sale any more');
      }
    }
  }
}

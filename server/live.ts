import type { Namespace, Server } from 'socket.io';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { SaleBoard } from './sale-board';
import type { ClientToServerEvents, LaneSnapshot, ServerToClientEvents } from './wire';

const watchRequest = z.object({ sale: z.string().min(1).max(200) });
const roomOf = (sale: string) => `sale:${sale}`;

/**
 * The `/live` namespace (../shared/API.md): a client watches one sale and gets every lane at once,
 * then — at most once a second — only the lanes whose figures changed, plus the sale totals.
 */
export class LiveFeed {
  private readonly namespace: Namespace<ClientToServerEvents, ServerToClientEvents>;
  /** What each sale's room was last sent, per lane, to send only what changed. */
  private readonly lastSent = new Map<string, Map<string, string>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    io: Server,
    private readonly board: SaleBoard,
    private readonly log: Logger,
  ) {
    this.namespace = io.of('/live');
    this.namespace.on('connection', (socket) => {
      socket.on('watch', (request, ack) => {
        const reply = typeof ack === 'function' ? ack : () => {};
        const parsed = watchRequest.safeParse(request);
        if (!parsed.success) return reply({ ok: false, error: 'watch needs { sale: string }' });
        const { sale } = parsed.data;
        const view = this.board.view(sale);
        if (!view) return reply({ ok: false, error: `unknown sale ${JSON.stringify(sale)}` });
        for (const room of socket.rooms) if (room.startsWith('sale:')) void socket.leave(room);
        void socket.join(roomOf(sale));
        // A new or reconnecting screen starts from the whole picture.
        socket.emit('lanes', view.lanes);
        socket.emit('sale', view.totals);
        reply({ ok: true, data: { sale } });
      });
    });
  }

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => this.broadcast(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Sends each watched sale's changed lanes and its totals to the sale's room. */
  broadcast(): void {
    for (const [room, members] of this.namespace.adapter.rooms) {
      if (!room.startsWith('sale:') || members.size === 0) continue;
      const sale = room.slice('sale:'.length);
      const view = this.board.view(sale);
      if (!view) continue;
      const changed = this.changedLanes(sale, view.lanes);
      // Every node has the same figures and sends them to its own screens only.
      if (changed.length > 0) this.namespace.local.to(room).emit('lanes', changed);
      this.namespace.local.to(room).emit('sale', view.totals);
    }
    this.forgetUnwatched();
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

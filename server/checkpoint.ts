import type { Redis } from 'ioredis';

/** What a server saved: its engine state, and the stream position that state includes. */
export interface Checkpoint {
  /** Id of the last stream entry applied to `engine`. */
  position: string;
  savedAt: number;
  /** The engine as serialized by server/metrics/persist.ts. */
  engine: string;
  /**
   * The wall charts' bands and markers (server/chart-checkpoint.ts), kept with the engine they were
   * drawn from; none in a checkpoint of an older build.
   */
  wallCharts?: string;
}

/**
 * Engine checkpoints in Redis, one per stream (the figures are a function of the stream): a
 * restarted server restores the latest and reads on from its position instead of replaying the
 * whole stream, and whatever it applies after that was not in the checkpoint, so nothing counts
 * twice. Every node of a pair writes the same key; any node's latest checkpoint is a consistent one.
 */
export class CheckpointStore {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    stream: string,
  ) {
    this.key = `${stream}:checkpoint`;
  }

  async load(): Promise<Checkpoint | undefined> {
    const { position, savedAt, engine, wallCharts } = await this.redis.hgetall(this.key);
    if (position === undefined || engine === undefined) return undefined;
    return { position, savedAt: Number(savedAt), engine, wallCharts };
  }

  /** One HSET: the four fields change together or not at all. */
  async save(checkpoint: Required<Checkpoint>): Promise<void> {
    await this.redis.hset(this.key, {
      position: checkpoint.position,
      savedAt: checkpoint.savedAt,
      engine: checkpoint.engine,
      wallCharts: checkpoint.wallCharts,
    });
  }
}

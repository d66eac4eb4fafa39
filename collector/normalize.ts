/**
 * A Normalizer turns one raw message of a platform's feed into contract-shaped candidates (zero,
 * one or several: an attendance snapshot of all lanes is one message, many events). It does not
 * validate them: the pipeline does, with reasons. Built from a declarative mapping file, or the
 * identity for feeds that already speak the contract (the simulator, contract NDJSON).
 */
export type NormalizeResult = { ok: true; events: unknown[] } | { ok: false; reason: string };

export interface Normalizer {
  /** Called once per raw message, in arrival order. Must not throw: return a reason instead. */
  normalize(message: unknown): NormalizeResult;
}

export const contractEvents: Normalizer = {
  normalize: (message) => ({ ok: true, events: [message] }),
};

/** The built-in simulator source: a realistic, seed-deterministic sale with labelled incidents. */
export type { Incident } from './incidents';
export { SimulatorSource, type Clock } from './playback';
export { simulateSale, type SimulatedSale } from './sale';

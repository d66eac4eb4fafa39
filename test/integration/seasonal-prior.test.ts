/** The decline alert's seasonal prior, loaded from the lane history stored in the real InfluxDB. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeasonalPrior } from '../../server/history/prior';
import { connectInflux, type InfluxStore } from '../../storage/influxdb';
import { dropStores, isolatedConfig } from '../helpers/stores';

const config = isolatedConfig();
let influx: InfluxStore;
const DAY = 86_400_000;

/** A past sale of lane 1 at dallas: 20 online for 40 minutes, then the end-of-sale fade to 10. */
function pastSale(sale: string, daysAgo: number, crowd: number): string[] {
  const opened = Math.floor((Date.now() - daysAgo * DAY) / 60_000) * 60_000;
  const lines: string[] = [];
  for (let minute = 0; minute < 60; minute++) {
    const online = minute < 40 ? crowd : crowd / 2;
    // Two points a minute, as the recorder writes several; the prior takes each minute's mean.
    for (const second of [0, 30]) {
      const ts = opened + minute * 60_000 + second * 1000;
      lines.push(`lane_metrics,auction=dallas,lane=1,sale=${sale} onlineBidders=${online} ${ts}000000`);
    }
  }
  return lines;
}

beforeAll(async () => {
  influx = await connectInflux(config.influx);
  // Crowds differ from sale to sale; the shape is what repeats.
  await influx.writeLines([...pastSale('s1', 3, 20), ...pastSale('s2', 10, 40), ...pastSale('s3', 17, 30)]);
});

afterAll(async () => {
  await influx?.close();
  await dropStores(config);
});

describe('seasonal prior from lane history', () => {
  it("gives each minute of the lane's usual shape, relative to its typical level", async () => {
    const prior = await loadSeasonalPrior(influx);
    // Each curve over its own median (its plateau): 1 on the plateau, 0.5 in the fade; smoothed
    // over ±2 minutes, so minute 39 sees two faded neighbours: (1 + 1 + 1 + 0.5 + 0.5) / 5.
    expect(prior.expected('dallas', '1', 10)).toBe(1);
    expect(prior.expected('dallas', '1', 39)).toBeCloseTo(0.8, 10);
    expect(prior.expected('dallas', '1', 50)).toBe(0.5);
    expect(prior.expected('dallas', '2', 10)).toBeUndefined();
    expect(prior.expected('houston', '1', 10)).toBeUndefined();
  });

  it('leaves out the sales still running, and speaks only where three sales agree', async () => {
    const prior = await loadSeasonalPrior(influx, ['s3']);
    expect(prior.expected('dallas', '1', 10)).toBeUndefined();
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AlertConfigError,
  DEFAULT_ALERT_CONFIG,
  loadAlertConfig,
  mergeAlertConfig,
  validateAlertConfig,
} from '../alerts/config';

describe('alert rules config', () => {
  it('ships defaults that are METRICS.md’s table', () => {
    expect(DEFAULT_ALERT_CONFIG['attendance.decline'].lane).toEqual({
      dropPct: 25,
      minDrop: 3,
      noiseSigmas: 2,
      minBaseline: 5,
      holdSec: 30,
      clearWithinPct: 12.5,
      clearSec: 60,
    });
    expect(DEFAULT_ALERT_CONFIG['attendance.decline'].sale.clearWithinPct).toBe(10);
    expect(DEFAULT_ALERT_CONFIG['stream.lagging']).toEqual({ fireMs: 3000, clearMs: 2000, holdSec: 30, clearSec: 30 });
    expect(DEFAULT_ALERT_CONFIG.flapping).toEqual({ evaluations: 21, flipsToEnter: 11, flipsToLeave: 5 });
  });

  it('names every bad key, unknown ones included', () => {
    const check = validateAlertConfig({
      ...DEFAULT_ALERT_CONFIG,
      'clerk.slow': { ...DEFAULT_ALERT_CONFIG['clerk.slow'], fireP95Ms: -1 },
      'pace.fast': { ...DEFAULT_ALERT_CONFIG['pace.fast'], tempo: 3 },
    });
    expect(check).toEqual({
      ok: false,
      errors: ['clerk.slow.fireP95Ms: Too small: expected number to be >0', 'pace.fast: Unrecognized key: "tempo"'],
    });
  });

  it('merges a partial update and checks the result as a whole', () => {
    const merged = mergeAlertConfig(DEFAULT_ALERT_CONFIG, { 'stream.lagging': { fireMs: 4000 } });
    expect(merged.ok && merged.config['stream.lagging']).toEqual({
      fireMs: 4000,
      clearMs: 2000,
      holdSec: 30,
      clearSec: 30,
    });
    // Untouched: merging returns a new document.
    expect(DEFAULT_ALERT_CONFIG['stream.lagging'].fireMs).toBe(3000);
    expect(mergeAlertConfig(DEFAULT_ALERT_CONFIG, { 'stream.lagging': { clearMs: 3500 } })).toEqual({
      ok: false,
      errors: ['stream.lagging.clearMs: must be below fireMs (3000)'],
    });
    expect(mergeAlertConfig(DEFAULT_ALERT_CONFIG, { 'attendance.decline': { lane: { clearWithinPct: 30 } } })).toEqual({
      ok: false,
      errors: ['attendance.decline.lane.clearWithinPct: must be below dropPct (25)'],
    });
    expect(mergeAlertConfig(DEFAULT_ALERT_CONFIG, [1])).toEqual({ ok: false, errors: ['(patch): must be an object'] });
  });

  it('loads a rules file, and refuses one that is not valid with the reasons', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alert-rules-'));
    const good = path.join(dir, 'good.json');
    fs.writeFileSync(good, JSON.stringify({ ...DEFAULT_ALERT_CONFIG, warmup: { minutes: 5, samples: 10 } }));
    expect(loadAlertConfig(good).warmup.minutes).toBe(5);
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(
      bad,
      JSON.stringify({ ...DEFAULT_ALERT_CONFIG, flapping: { evaluations: 21, flipsToEnter: 4, flipsToLeave: 5 } }),
    );
    expect(() => loadAlertConfig(bad)).toThrow(AlertConfigError);
    expect(() => loadAlertConfig(bad)).toThrow('flapping.flipsToLeave: must be below flipsToEnter (4)');
    expect(() => loadAlertConfig(path.join(dir, 'missing.json'))).toThrow(/cannot read alert rules/);
  });
});

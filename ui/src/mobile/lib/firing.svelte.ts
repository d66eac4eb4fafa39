/**
 * The alerts that need a manager now, kept live: the firing list from `GET /api/alerts?state=firing`
 * on every (re)connect, then each `alert` transition from the `/live` namespace, which the server
 * sends to every client (../../../../../shared/API.md). Both need a login: the socket's handshake
 * carries the session cookie like any same-origin request.
 */
import { io, type Socket } from 'socket.io-client';
import { SvelteMap } from 'svelte/reactivity';
import type { Alert } from '../../../../alerts/types';
import type { ServerToClientEvents } from '../../../../server/wire';
import type { ConnectionState } from '../../lib/live.svelte';
import { acknowledge, fetchFiring, reportSignedOut, snooze, type SnoozeMinutes } from './api';

/** A list that failed to load is asked for again after this long, while connected. */
const RELOAD_AFTER_MS = 5_000;

/**
 * How the server's refusal of a handshake without a login begins (server/access/socket.ts
 * `UNAUTHORIZED`; that module is server code, so the page matches the word instead of importing it).
 */
const UNAUTHORIZED = 'unauthorized';

/** Firing, and nobody has acknowledged or snoozed it yet. */
export function needsAttention(alert: Alert): boolean {
  return alert.state === 'firing' && alert.acknowledgedAt === undefined && alert.snoozedUntil === undefined;
}

/** Critical before warning, then the most recent first. */
function byUrgency(a: Alert, b: Alert): number {
  if (a.severity !== b.severity) return a.severity === 'critical' ? -1 : 1;
  return (b.firedAt ?? b.since) - (a.firedAt ?? a.since);
}

/**
 * Connects on construction: construct it once logged in. A refused handshake reports the login
 * gone (./api.ts `reportSignedOut`) and stays disconnected. Every alert heard of is kept by key at
 * its latest transition (a reply or message about an earlier transition never overwrites a later
 * one); `list` shows those that need attention. `close()` ends it for good.
 */
export class FiringAlerts {
  connection = $state<ConnectionState>('reconnecting');
  /** Why the firing list could not be loaded, until it can. */
  loadError = $state<string | null>(null);
  /** False until the first list arrived: the page says "loading", not "no alerts". */
  loaded = $state(false);
  readonly #alerts = new SvelteMap<string, Alert>();
  readonly list = $derived([...this.#alerts.values()].filter(needsAttention).sort(byUrgency));
  readonly #socket: Socket<Pick<ServerToClientEvents, 'alert'>>;
  /** Transitions heard while the list is loading, replayed on top of it. */
  #heardWhileLoading: Alert[] | null = null;
  #loading: AbortController | null = null;
  #reload: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.#socket = io('/live');
    this.#socket.on('connect', () => {
      this.connection = 'connected';
      void this.#load();
    });
    this.#socket.on('disconnect', () => this.#onConnectionLost());
    this.#socket.on('connect_error', (error) => {
      this.#onConnectionLost();
      if (error.message.startsWith(UNAUTHORIZED)) reportSignedOut();
    });
    this.#socket.on('alert', (transition) => {
      this.#heardWhileLoading?.push(transition.alert);
      this.#apply(transition.alert);
    });
  }

  /** Under the logged-in manager's name. Throws what went wrong; on success the alert leaves the list. */
  async acknowledge(key: string): Promise<void> {
    this.#apply(await acknowledge(key));
  }

  /** Throws what went wrong; on success the alert leaves the list until the snooze ends. */
  async snooze(key: string, minutes: SnoozeMinutes): Promise<void> {
    this.#apply(await snooze(key, minutes));
  }

  close(): void {
    clearTimeout(this.#reload);
    this.#loading?.abort();
    this.#socket.disconnect();
  }

  #onConnectionLost(): void {
    this.connection = this.#socket.active ? 'reconnecting' : 'disconnected';
  }

  /** Replaces what is known with the server's list: transitions missed while disconnected are in it. */
  async #load(): Promise<void> {
    clearTimeout(this.#reload);
    this.#loading?.abort();
    const loading = (this.#loading = new AbortController());
    const heard: Alert[] = (this.#heardWhileLoading = []);
    try {
      const firing = await fetchFiring(loading.signal);
      this.#alerts.clear();
      for (const alert of [...firing, ...heard]) this.#apply(alert);
      this.loaded = true;
      this.loadError = null;
    } catch (error) {
      if (loading.signal.aborted) return;
      this.loadError = error instanceof Error ? error.message : String(error);
      this.#reload = setTimeout(() => {
        if (this.#socket.connected) void this.#load();
      }, RELOAD_AFTER_MS);
    } finally {
      if (this.#heardWhileLoading === heard) this.#heardWhileLoading = null;
    }
  }

  #apply(alert: Alert): void {
    const known = this.#alerts.get(alert.key);
    if (known && known.transition > alert.transition) return;
    this.#alerts.set(alert.key, alert);
  }
}

/**
 * Kiosk mode (`?kiosk`), for a TV left on in the control room: no cursor, the screen kept awake
 * (the wake lock is released whenever the page is hidden, so it is asked for again each time the
 * page shows), the whole picture nudged by a pixel or two every few minutes so nothing burns into
 * the panel, and a reload once the server serves a new build of the display.
 */

/** The nudge cycle: never more than 2 px from where the layout puts things. */
const SHIFTS: readonly [x: number, y: number][] = [
  [0, 0],
  [1, 0],
  [2, 1],
  [1, 2],
  [0, 1],
  [-1, 0],
  [-1, -1],
  [0, -1],
];
export const SHIFT_EVERY_MS = 3 * 60_000;

export function isKiosk(search: string): boolean {
  return new URLSearchParams(search).has('kiosk');
}

/** Starts kiosk mode on `root`; returns what stops it. */
export function startKiosk(root: HTMLElement): () => void {
  root.classList.add('kiosk');
  let lock: WakeLockSentinel | null = null;
  let stopped = false;
  const keepAwake = async () => {
    if (stopped || document.visibilityState !== 'visible' || (lock && !lock.released)) return;
    try {
      lock = (await navigator.wakeLock?.request('screen')) ?? null;
    } catch {
      // Refused (no secure context, battery saver): the TV's own settings must keep it on.
    }
  };
  const onVisibility = () => void keepAwake();
  document.addEventListener('visibilitychange', onVisibility);
  void keepAwake();

  let shift = 0;
  const nudge = setInterval(() => {
    shift = (shift + 1) % SHIFTS.length;
    const [x, y] = SHIFTS[shift] as [number, number];
    root.style.setProperty('--burn-in-x', `${x}px`);
    root.style.setProperty('--burn-in-y', `${y}px`);
  }, SHIFT_EVERY_MS);

  return () => {
    stopped = true;
    clearInterval(nudge);
    document.removeEventListener('visibilitychange', onVisibility);
    void lock?.release();
    root.classList.remove('kiosk');
  };
}

/**
 * Reloads the page once the server's build differs from the one it served this page with (the
 * first it reported) — but only when the new page's scripts and styles can be fetched, so a
 * reload in the middle of a deploy never leaves the TV on a blank page. Returns whether it reloads.
 */
export class BuildWatch {
  #served: string | null = null;
  #checking = false;

  constructor(private readonly reload: () => void = () => location.reload()) {}

  async see(build: string | null): Promise<boolean> {
    if (build === null) return false;
    this.#served ??= build;
    if (build === this.#served || this.#checking) return false;
    this.#checking = true;
    try {
      if (!(await pageLoads())) return false;
      this.reload();
      return true;
    } finally {
      this.#checking = false;
    }
  }
}

/** The page as the server serves it now, and every script and style it names, answer 200. */
async function pageLoads(): Promise<boolean> {
  try {
    const page = await fetch(location.pathname, { cache: 'no-store' });
    if (!page.ok) return false;
    const assets = [...(await page.text()).matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    const answers = await Promise.all(assets.map((asset) => fetch(asset, { method: 'HEAD', cache: 'no-store' })));
    return answers.every((answer) => answer.ok);
  } catch {
    return false;
  }
}

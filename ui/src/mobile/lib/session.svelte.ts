/**
 * Who is logged in on this phone. The server keeps the session (an HttpOnly cookie the page never
 * sees); this only mirrors what the server last said: `GET /api/auth/me` on start, the answer to
 * a login, and any 401 since (./api.ts `onSignedOut`). Acting on alerts and phone alerts need a
 * manager (server/access/roles.ts); a viewer only reads.
 */
import { mayAct, type Role } from '../../../../server/access/roles';
import { ApiError, fetchMe, login, logout, onSignedOut, type User } from './api';

/** `checking`: asking the server on start; the page shows neither the login form nor the alerts yet. */
export type SessionState = 'checking' | 'signed-out' | 'signed-in';

const ACTING_ROLE: Role = 'manager';

export class Session {
  state = $state<SessionState>('checking');
  user = $state.raw<User | null>(null);
  /** A login or logout in flight: the button waits. */
  busy = $state(false);
  /** Why the last check, login or logout failed, until the next one. */
  error = $state<string | null>(null);
  /** The user may acknowledge, snooze and turn on phone alerts. */
  readonly canAct = $derived(this.user !== null && mayAct(this.user, ACTING_ROLE));

  constructor() {
    onSignedOut(() => this.#signedOut());
  }

  /** Asks the server who this browser is logged in as: called once the page is up. */
  async check(): Promise<void> {
    try {
      this.#signedIn(await fetchMe());
    } catch (error) {
      // A 401 is the usual "not logged in" and needs no words; anything else does.
      if (!(error instanceof ApiError && error.status === 401)) {
        this.error = `Could not check your login: ${messageOf(error)}`;
      }
      this.#signedOut();
    }
  }

  async login(name: string, password: string): Promise<void> {
    await this.#run(async () => {
      try {
        this.#signedIn(await login(name, password));
      } catch (error) {
        throw new Error(loginFailure(error), { cause: error });
      }
    });
  }

  async logout(): Promise<void> {
    await this.#run(async () => {
      try {
        await logout();
      } catch (error) {
        throw new Error(`Could not log out: ${messageOf(error)}`, { cause: error });
      }
      this.#signedOut();
    });
  }

  /** One login or logout at a time; what it throws is shown as it is. */
  async #run(change: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    try {
      await change();
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.busy = false;
    }
  }

  #signedIn({ name, role }: User): void {
    this.user = { name, role };
    this.state = 'signed-in';
    this.error = null;
  }

  #signedOut(): void {
    this.user = null;
    this.state = 'signed-out';
  }
}

function loginFailure(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return 'Wrong name or password.';
  if (error instanceof ApiError && error.status === 429) return `Logging in is blocked for now: ${error.reason}.`;
  return `Could not log in: ${messageOf(error)}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

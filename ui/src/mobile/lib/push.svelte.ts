/**
 * This phone's Web Push subscription: on, it gets a notification for every firing alert even with
 * the page closed (the service worker shows it: ../sw.ts). The server keeps the subscriptions
 * (alerts/notify/push-routes.ts); the browser keeps its own, and the two are changed together.
 */
import { deleteSubscription, saveSubscription, vapidPublicKey } from './api';

/**
 * `unsupported`: no service worker or Push API here (plain http to a LAN address, an old browser, or
 * iOS before the app is added to the home screen). `blocked`: the manager denied notifications.
 */
export type PushState = 'checking' | 'unsupported' | 'blocked' | 'off' | 'on';

export class PushAlerts {
  state = $state<PushState>('checking');
  /** A request in flight: the button waits. */
  busy = $state(false);
  /** Why the last enable or disable failed, until the next try. */
  error = $state<string | null>(null);

  /** `registration` is the page's service worker; null where there is none. */
  constructor(private readonly registration: Promise<ServiceWorkerRegistration> | null) {}

  /** Reads the browser's side: called once the page is up. */
  async check(): Promise<void> {
    const registration = await this.#registration();
    if (!registration) return;
    if (Notification.permission === 'denied') this.state = 'blocked';
    else this.state = (await registration.pushManager.getSubscription()) ? 'on' : 'off';
  }

  async enable(): Promise<void> {
    // Asked first, while the tap still counts as one: Safari refuses a request made after an await.
    const permission = typeof Notification === 'undefined' ? null : Notification.requestPermission();
    await this.#run('Alerts could not be turned on', async (registration) => {
      if ((await permission) !== 'granted') {
        this.state = 'blocked';
        throw new Error('notifications are blocked; allow them for this site in the browser settings');
      }
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: await vapidPublicKey(),
      });
      try {
        await saveSubscription(subscription.toJSON());
      } catch (error) {
        // Subscribed here but unknown to the server: no alert would ever arrive. Undo.
        await subscription.unsubscribe();
        throw error;
      }
      this.state = 'on';
    });
  }

  async disable(): Promise<void> {
    await this.#run('Alerts could not be turned off', async (registration) => {
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        await deleteSubscription(subscription.endpoint);
        await subscription.unsubscribe();
      }
      this.state = 'off';
    });
  }

  /** One change at a time; `failure` heads the message when it fails. */
  async #run(failure: string, change: (registration: ServiceWorkerRegistration) => Promise<void>): Promise<void> {
    const registration = await this.#registration();
    if (!registration || this.busy) return;
    this.busy = true;
    this.error = null;
    try {
      await change(registration);
    } catch (error) {
      this.error = `${failure}: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      this.busy = false;
    }
  }

  async #registration(): Promise<ServiceWorkerRegistration | null> {
    if (!this.registration || !('PushManager' in window) || !('Notification' in window)) {
      this.state = 'unsupported';
      return null;
    }
    try {
      return await this.registration;
    } catch (error) {
      this.state = 'unsupported';
      this.error = `The alert service could not start: ${error instanceof Error ? error.message : String(error)}`;
      return null;
    }
  }
}

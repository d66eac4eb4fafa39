import { mount } from 'svelte';
import '../app.css';
import './mobile.css';
import MobileApp from './MobileApp.svelte';
import { PushAlerts } from './lib/push.svelte';
import { Session } from './lib/session.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('m/index.html has no #app element');

// Served from /m/ so that it may take the scope /m/ (a worker's scope is at most its own folder).
const registration =
  'serviceWorker' in navigator ? navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' }) : null;

mount(MobileApp, { target, props: { push: new PushAlerts(registration), session: new Session() } });

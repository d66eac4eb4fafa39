import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { serviceWorker } from './vite-plugin-service-worker';

// The dev server stands in for the Lanewatch server (PORT 8080), which serves the built UI in production.
const server = 'http://127.0.0.1:8080';

const page = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: page('.'),
  plugins: [svelte(), serviceWorker({ entry: 'src/mobile/sw.ts', fileName: 'm/sw.js' })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Two pages: the wall display at `/` and the managers' phone app at `/m/` (its manifest and icons are in public/m).
    rollupOptions: { input: { wall: page('index.html'), mobile: page('m/index.html') } },
  },
  server: {
    proxy: {
      '/api': server,
      '/socket.io': { target: server, ws: true },
    },
  },
});

/**
 * Builds a service worker into one classic script at a fixed path (`m/sw.js`). A worker's scope is
 * at most the folder it is served from, and the browser checks that same URL for updates, so the
 * file can carry no content hash. It is bundled on its own, as an IIFE: a module it shares with a
 * page is copied in rather than split into a chunk, which a classic worker could not `import`.
 * `vite build` emits it with the pages; the dev server builds it on each request.
 */
import path from 'node:path';
import { build, type Plugin, type Rollup } from 'vite';

export interface ServiceWorkerOptions {
  /** The worker's source, relative to the Vite root. */
  entry: string;
  /** Where it lands in the output (and is served in dev), e.g. `m/sw.js`. */
  fileName: string;
}

export function serviceWorker({ entry, fileName }: ServiceWorkerOptions): Plugin {
  let root = '';
  let minify = true;

  const bundle = async (): Promise<string> => {
    const output = (await build({
      configFile: false,
      root,
      logLevel: 'warn',
      publicDir: false,
      build: {
        write: false,
        minify,
        modulePreload: false,
        rollupOptions: { input: path.resolve(root, entry), output: { format: 'iife', entryFileNames: 'sw.js' } },
      },
    })) as Rollup.RollupOutput;
    const chunks = output.output.filter((file): file is Rollup.OutputChunk => file.type === 'chunk');
    if (chunks.length !== 1 || !chunks[0]) throw new Error(`the service worker ${entry} did not build into one script`);
    return chunks[0].code;
  };

  return {
    name: 'lanewatch:service-worker',
    configResolved(config) {
      root = config.root;
      minify = config.command === 'build' && config.build.minify !== false;
    },
    async generateBundle() {
      this.emitFile({ type: 'asset', fileName, source: await bundle() });
    },
    configureServer(server) {
      server.middlewares.use(`/${fileName}`, (_req, res, next) => {
        bundle().then((code) => {
          res.setHeader('content-type', 'text/javascript');
          res.end(code);
        }, next);
      });
    },
  };
}

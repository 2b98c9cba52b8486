import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

// `npm run build` writes client/dist, which the server serves; `npx vite --config client/vite.config.ts`
// serves the dashboard with hot reload and forwards /ws to a server on :8080.
export default defineConfig({
  root,
  plugins: [svelte()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/ws': { target: 'ws://127.0.0.1:8080', ws: true } } },
});

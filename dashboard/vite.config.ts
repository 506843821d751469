// Built into the API's package, served there under /coach/ (service/api/dashboard).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/coach/',
  build: {
    outDir: '../service/api/dashboard/static',
    emptyOutDir: true,
    modulePreload: { polyfill: false }, // the polyfill is an inline script; CSP refuses those
    sourcemap: false,
  },
});

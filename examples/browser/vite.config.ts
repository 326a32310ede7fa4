import { defineConfig } from 'vite';

// Only needed inside this repository, where `x402-autopay` is the package itself (imported by its
// own name, from dist/) rather than a dependency in node_modules: Vite's dependency scan would
// otherwise warn that it cannot pre-bundle it. In your app, no config is needed.
export default defineConfig({
  optimizeDeps: { exclude: ['x402-autopay'] },
});

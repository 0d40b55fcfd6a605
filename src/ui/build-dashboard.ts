import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/** Bundles the dashboard (src/ui/app) with esbuild into one script and one stylesheet, plus its page. */
const ROOT = path.resolve(__dirname, '..', '..');
export const APP_DIR = path.join(ROOT, 'src', 'ui', 'app');
export const DEFAULT_OUT_DIR = path.join(ROOT, 'dist', 'dashboard');

export async function buildDashboard(outDir: string = DEFAULT_OUT_DIR): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { app: path.join(APP_DIR, 'main.tsx') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    target: 'es2020',
    minify: true,
    sourcemap: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'warning',
  });
  copyFileSync(path.join(APP_DIR, 'index.html'), path.join(outDir, 'index.html'));
}

if (require.main === module) {
  buildDashboard(process.argv[2]).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

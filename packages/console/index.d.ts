/**
 * Absolute path (with a trailing slash) of the built console: `index.html`, `proof-viewer.html`,
 * `assets/*` and `manifest.json`. Written by `npm run build --workspace @govmesh/console`.
 *
 * @example
 * ```ts
 * import { CONSOLE_DIST_DIR } from '@govmesh/console'
 * const html = readFileSync(join(CONSOLE_DIST_DIR, 'proof-viewer.html'), 'utf8')
 * ```
 */
export declare const CONSOLE_DIST_DIR: string

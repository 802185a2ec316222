// Builds the console to static files in dist/: the app (one hashed JS + CSS bundle shared by
// /, /governance, /lineage and /demo) and the proof viewer as ONE self-contained HTML file
// (inline script and style, a Content-Security-Policy that forbids every network request).
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const dist = join(here, 'dist')
const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'es2022',
  platform: 'browser',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
  // The proof viewer reads CARs with the node's own reader: the same code as `govmesh proof verify`.
  alias: { '@govmesh/node/proof-car': join(here, '../node/src/proof-car.ts') },
  define: { 'process.env.NODE_ENV': '"production"' }
}

rmSync(dist, { recursive: true, force: true })
mkdirSync(join(dist, 'assets'), { recursive: true })

const app = await build({
  ...common,
  entryPoints: { app: join(here, 'src/main.tsx') },
  format: 'esm',
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true
})
const outputs = Object.keys(app.metafile.outputs).map(p => basename(p))
const appJs = outputs.find(f => f.endsWith('.js'))
const appCss = outputs.find(f => f.endsWith('.css'))
if (appJs === undefined || appCss === undefined) throw new Error('console build: missing app bundle outputs')

const head = title => `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><link rel="icon" href="data:,"><title>${title}</title>`
writeFileSync(
  join(dist, 'index.html'),
  `<!doctype html>
<html lang="en"><head>${head('govmesh console')}
<link rel="stylesheet" href="/assets/${appCss}"><script type="module" src="/assets/${appJs}"></script>
</head><body><div id="app"></div><noscript>The govmesh console needs JavaScript.</noscript></body></html>
`
)

const viewer = await build({
  ...common,
  entryPoints: [join(here, 'src/proof/main.tsx')],
  format: 'iife',
  outdir: join(here, 'dist-viewer'),
  write: false,
  // A classic script (runs from file://); the core's own module URL has no meaning inside one HTML file.
  define: { ...common.define, 'import.meta.url': '"about:govmesh-proof-viewer"' }
})
const viewerJs = viewer.outputFiles.find(f => f.path.endsWith('.js'))?.text
const viewerCss = viewer.outputFiles.find(f => f.path.endsWith('.css'))?.text ?? ''
if (viewerJs === undefined) throw new Error('console build: missing proof viewer bundle')
// Inline scripts end at the first "</script"; the escaped form means the same inside JS strings and regexes.
const script = viewerJs.replace(/<\/script/gi, '<\\/script')
const scriptHash = createHash('sha256').update(script).digest('base64')
const csp =
  `default-src 'none'; script-src 'sha256-${scriptHash}'; style-src 'unsafe-inline'; img-src data:; ` +
  "connect-src 'none'; form-action 'none'; base-uri 'none'"
writeFileSync(
  join(dist, 'proof-viewer.html'),
  `<!doctype html>
<html lang="en"><head><meta http-equiv="Content-Security-Policy" content="${csp}">
${head('govmesh proof viewer')}
<style>${viewerCss}</style>
</head><body><div id="app"></div><noscript>The proof viewer needs JavaScript (it verifies in your browser).</noscript>
<script>${script}</script></body></html>
`
)
writeFileSync(
  join(dist, 'manifest.json'),
  JSON.stringify({ app: { js: appJs, css: appCss }, proofViewer: { csp } }, null, 2) + '\n'
)

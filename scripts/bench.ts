// `npm run bench -- [core|...] [--json]`: prints the figures the issues ask for.
import '@govmesh/node/polyfill'
import { benchCore } from './bench/core.js'
import { benchSync } from './bench/sync.js'
import { benchGossip } from './bench/gossip.js'
import { benchTrust } from './bench/trust.js'
import { benchProof } from './bench/proof.js'
import { benchConsole } from './bench/console.js'
import { benchCli } from './bench/cli.js'
import { benchIdle } from './bench/idle.js'
import { benchAppend } from './bench/append.js'
import { benchHistory, type HistoryFigures } from './bench/history.js'

/** Options some suites take: `--nodes N` (idle), `--seconds S` (idle's sampling window), `--n N` (history). */
interface BenchOptions { nodes?: number, seconds?: number, n?: number }
type Figures = Record<string, number>
/** A suite gives one figure set, or one per size it runs at (each printed as its own JSON object). */
type Suite = (opts: BenchOptions) => Promise<Figures | Figures[]>
const SUITES: Record<string, { run: Suite, describe: (r: Figures) => string[] }> = {
  core: {
    run: async () => ({ ...await benchCore() }),
    describe: (r) => [
      `raw node:crypto Ed25519 verify      ${r.rawVerifyPerSec}/s`,
      `entry decode+validate+verify (DAG)  ${r.entryVerifyPerSec}/s  (${r.entryVerifyRatio}x raw; target >= 0.85x)`,
      `raw node:crypto Ed25519 sign        ${r.rawSignPerSec}/s`,
      `entry create+sign+encode (append)   ${r.entrySignPerSec}/s  (${r.entrySignRatio}x raw sign; target >= 0.7x)`,
      `  of which createEntry alone          ${r.createEntryPerSec}/s`,
      `decide() with ${r.decideRules} rules           ${r.decidePerSec}/s  (target >= 50000/s)`
    ]
  },
  sync: {
    run: async () => ({ ...await benchSync() }),
    describe: (r) => [
      `fresh node syncs ${r.entries} entries   ${r.syncEntriesPerSec}/s in ${r.seconds}s`,
      `raw node:crypto verify (same run)   ${r.rawVerifyPerSec}/s`,
      `sync / raw verify                   ${r.syncToVerifyRatio}x with ${r.verifyThreads} verify worker(s) (target >= 1.5x)`,
      `same, main thread only              ${r.syncEntriesPerSecOneThread}/s, ${r.syncToVerifyRatioOneThread}x (target >= 0.9x)`,
      `sealed history (batches of ${r.sealedBatch})   ${r.syncSealedEntriesPerSec}/s, ${r.syncSealedToVerifyRatio}x raw verify`
    ]
  },
  append: {
    run: async () => ({ ...await benchAppend() }),
    describe: (r) => [
      `one writer, POST /v1/entries awaited  ${r.sequentialPerSec}/s over ${r.sequentialEntries} entries (target >= 3000/s)`,
      `16 writers at once                    ${r.concurrentPerSec}/s over ${r.concurrentEntries} entries (target >= 10000/s)`,
      `second node receives them             ${r.liveEntriesPerSec}/s (target >= 2000/s); ` +
        `lag from ack p50 ${r.liveLagP50Ms} ms, p99 ${r.liveLagP99Ms} ms (target p99 <= 50 ms)`
    ]
  },
  gossip: {
    run: async () => ({ ...await benchGossip() }),
    describe: (r) => [
      `gossip of one entry to all ${r.nodes} nodes  p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms over ${r.trials} trials (target p99 <= 50 ms)`,
      `idle RSS per node                   mean ${r.rssMb} MB, max ${r.rssMaxMb} MB (target <= 100 MB)`
    ]
  },
  trust: {
    run: async () => ({ ...await benchTrust() }),
    describe: (r) => [
      `fail closed (report ack -> all refuse) p50 ${r.failClosedP50Ms} ms, p99 ${r.failClosedP99Ms} ms over ${r.trials} trials (target p99 <= 100 ms)`,
      `raw gossip, same mesh               p99 ${r.rawGossipP99Ms} ms; fail-closed / gossip p99 = ${r.failClosedToGossipP99} (target <= 2)`,
      `one-hop governed exec round trip    p50 ${r.execRoundTripP50Ms} ms, p99 ${r.execRoundTripP99Ms} ms`,
      `governed execs at one node          ${r.execPerSec}/s (target >= 500/s)`
    ]
  },
  proof: {
    run: async () => ({ ...await benchProof() }),
    describe: (r) => [
      `proof of an execution with ${r.ancestry} entries in its ancestry: export ${r.exportMs} ms, read + verify offline (noble) ${r.verifyMs} ms, ${r.carBytes} bytes`
    ]
  },
  history: {
    run: async (o) => (await benchHistory(o.n === undefined ? undefined : [o.n])).map(f => ({ ...f })),
    describe: (r) => {
      const f = r as unknown as HistoryFigures
      return [
        `${f.entries} entries (${f.writers} writers, ingested in ${f.ingestSeconds} s), after restart:`,
        `  memory                            RSS ${f.rssMb} MB, heap ${f.heapMb} MB after GC (target RSS <= 200 MB)`,
        `  restart until the API answers     ${f.restartMs} ms (target <= 3000 ms)`,
        `  p50 ancestry (limit 100) / log / export   ${f.ancestryP50Ms} / ${f.logP50Ms} / ${f.exportP50Ms} ms ` +
          `(target <= 10 ms; proofs held ${f.exportEntriesMean} entries on average)`,
        `  sync serving, empty frontier      ${f.syncServeEntriesPerSec} entries/s`
      ]
    }
  },
  console: {
    run: async () => ({ ...await benchConsole() }),
    describe: (r) => [
      `gzipped assets per page             /, /governance, /lineage, /demo ${r.appPageGzipBytes} B; /proof ${r.proofPageGzipBytes} B`,
      `dashboard first render, ${r.members} members   ${r.dashboardFirstRenderMs} ms (headless Chromium, from navigation)`,
      `lineage graph first render          ${r.lineageFirstRenderMs} ms for ${r.lineageEntries} entries ` +
        `(data in at ${r.lineageDataMs} ms)`,
      `proof viewer verify (${r.proofAncestry} entries)  ${r.browserVerifyMs} ms in the browser; ` +
        `govmesh proof verify ${r.cliVerifyWallMs} ms (process), ${r.cliVerifyInProcessMs} ms in process; ` +
        `browser / CLI = ${r.browserToCliRatio}`
    ]
  },
  cli: {
    run: async () => ({ ...await benchCli() }),
    describe: (r) => [
      `node -e 0                           ${r.bareNodeMs} ms (median of ${r.trials})`,
      `govmesh --version                   ${r.versionMs} ms (${r.versionToBare}x bare node; target <= 3x)`,
      `govmesh status --json (live node)   ${r.statusMs} ms (${r.statusToBare}x bare node; target <= 3x)`
    ]
  },
  idle: {
    run: async (opts) => ({ ...await benchIdle({ nodes: opts.nodes, sampleSeconds: opts.seconds }) }),
    describe: (r) => [
      `testnet of ${r.nodes} nodes ready (all trusted, one digest) in ${r.readyMs} ms (target at 50 nodes <= 180000 ms)`,
      `idle CPU per node over ${r.sampleSeconds} s        mean ${r.cpuPctPerNodeMean} %, max ${r.cpuPctPerNodeMax} % of a core ` +
        '(target mean <= 1.0 % at 20 nodes)',
      `idle RSS per node                   mean ${r.rssMbMean} MB`,
      `still all trusted after the window  ${r.holding === 1 ? 'yes' : 'NO'}`,
      `load average (1 min)                ${r.loadAvgBefore} before, ${r.loadAvgAfter} after`
    ]
  }
}

const args = process.argv.slice(2)
const json = args.includes('--json')
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run bench -- [${Object.keys(SUITES).join('|')}]... [--json] [--nodes N] [--seconds S] ` +
    '[--n N]\n' +
    'With no suite, runs all. --json prints one JSON object per suite (history: one per size). --nodes: testnet ' +
    'size of idle (default 20); --seconds: its sampling window (default 30); --n: the history suite at that size ' +
    'only (default 100000 and 250000).')
  process.exit(0)
}
const VALUE_FLAGS = ['--nodes', '--seconds', '--n']
function flagValue (flag: string): number | undefined {
  const i = args.indexOf(flag)
  if (i < 0) return undefined
  const v = Number(args[i + 1])
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench: ${flag}: expected a positive integer`)
    process.exit(2)
  }
  return v
}
const opts: BenchOptions = { nodes: flagValue('--nodes'), seconds: flagValue('--seconds'), n: flagValue('--n') }
const names = args.filter((a, i) => !a.startsWith('-') && !VALUE_FLAGS.includes(args[i - 1] ?? ''))
for (const name of names) {
  if (!(name in SUITES)) {
    console.error(`bench: unknown suite "${name}" (known: ${Object.keys(SUITES).join(', ')})`)
    process.exit(2)
  }
}
for (const name of names.length > 0 ? names : Object.keys(SUITES)) {
  const suite = SUITES[name]!
  const result = await suite.run(opts)
  for (const figures of Array.isArray(result) ? result : [result]) {
    if (json) console.log(JSON.stringify(figures))
    else console.log([`== ${name} ==`, ...suite.describe(figures)].join('\n'))
  }
}

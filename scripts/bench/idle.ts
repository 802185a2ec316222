import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listNodes } from '../../packages/cli/src/testnet/state.js'
import { statusRows } from '../../packages/cli/src/testnet/rows.js'
import { BIN } from '../../test/helpers/cluster.js'

export interface IdleFigures {
  nodes: number
  readyMs: number
  cpuPctPerNodeMean: number
  cpuPctPerNodeMax: number
  rssMbMean: number
  /** 1 when, after the sampling window, every node is still trusted by every other with one digest. */
  holding: number
  sampleSeconds: number
  /** The machine's 1-minute load average before the testnet started and at the end of the window. */
  loadAvgBefore: number
  loadAvgAfter: number
}

const CLOCK_TICKS = ((): number => {
  try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100 } catch { return 100 }
})()

/** CPU time (user + system) of a process so far, in seconds, from /proc/PID/stat. */
function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** Resident set size of a process, in MB, from /proc/PID/status. */
function rssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number(m[1]) / 1024
}

const loadAvg = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
const round = (x: number, digits = 2): number => Number(x.toFixed(digits))
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function cli (args: string[], timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], {
      timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024
    }, (err, _stdout, stderr) => {
      if (err === null) resolve()
      else if (err.killed) reject(new Error(`govmesh ${args.join(' ')}: did not finish within ${timeoutMs / 1000} s`))
      else reject(new Error(`govmesh ${args.join(' ')}: ${err.message}\n${stderr.split('\n').slice(-15).join('\n')}`))
    })
  })
}

/**
 * An idle testnet of real processes: `govmesh testnet up --nodes N --detach` (which returns once every
 * node trusts every other with one policy digest), then each node's CPU and RSS from /proc over
 * `sampleSeconds`, then whether the testnet still holds.
 */
export async function benchIdle (opts: { nodes?: number, sampleSeconds?: number } = {}): Promise<IdleFigures> {
  const nodes = opts.nodes ?? 20
  const sampleSeconds = opts.sampleSeconds ?? 30
  const dir = mkdtempSync(join(tmpdir(), 'govmesh-idle-'))
  const loadAvgBefore = loadAvg()
  try {
    const t0 = performance.now()
    await cli(
      ['testnet', 'up', '--nodes', String(nodes), '--dir', dir, '--detach', '--json', '--timeout', '300'], 900_000
    )
    const readyMs = Math.round(performance.now() - t0)
    const pids = listNodes(dir).map(n => n.pid).filter((p): p is number => p !== null)
    if (pids.length !== nodes) throw new Error(`expected ${nodes} running nodes, found ${pids.length}`)
    const cpuStart = pids.map(cpuSeconds)
    const start = performance.now()
    const rss: number[] = []
    for (let s = 0; s < sampleSeconds; s++) {
      await sleep(1000)
      rss.push(...pids.map(rssMb))
    }
    const elapsed = (performance.now() - start) / 1000
    const cpuPct = pids.map((pid, i) => 100 * (cpuSeconds(pid) - cpuStart[i]!) / elapsed)
    const loadAvgAfter = loadAvg()
    const rows = await statusRows(listNodes(dir))
    const holding = rows.every(r => r.status === 'trusted') && new Set(rows.map(r => r.policyDigest)).size === 1
    return {
      nodes,
      readyMs,
      cpuPctPerNodeMean: round(cpuPct.reduce((a, b) => a + b, 0) / cpuPct.length),
      cpuPctPerNodeMax: round(Math.max(...cpuPct)),
      rssMbMean: round(rss.reduce((a, b) => a + b, 0) / rss.length, 1),
      holding: holding ? 1 : 0,
      sampleSeconds,
      loadAvgBefore,
      loadAvgAfter
    }
  } finally {
    await cli(['testnet', 'down', '--dir', dir], 120_000).catch(
      (err: unknown) => { console.error((err as Error).message) }
    )
    rmSync(dir, { recursive: true, force: true })
  }
}

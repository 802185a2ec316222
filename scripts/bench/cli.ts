import { execFileSync } from 'node:child_process'
import { BIN, TestMesh } from '../../test/helpers/cluster.js'
import { percentile } from './measure.js'

export interface CliFigures {
  versionMs: number
  statusMs: number
  bareNodeMs: number
  versionToBare: number
  statusToBare: number
  trials: number
}

/** Wall time of one process run, from spawn to exit. */
function wallMs (args: string[]): number {
  const start = performance.now()
  execFileSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  return performance.now() - start
}

const median = (xs: number[]): number => Number(percentile([...xs].sort((a, b) => a - b), 50).toFixed(1))

/**
 * Wall time of `govmesh --version` and `govmesh status --json` (against a running node) next to
 * `node -e 0`, interleaved so that the machine's load weighs on all three alike; medians.
 */
export async function benchCli (trials = 15): Promise<CliFigures> {
  const mesh = new TestMesh()
  try {
    await mesh.create({ nodes: 1 })
    const node = await mesh.start(mesh.nodes[0]!)
    const runs = { bare: [] as number[], version: [] as number[], status: [] as number[] }
    const status = [BIN, 'status', '--json', '--data-dir', node.dir]
    for (let i = 0; i < trials + 2; i++) {
      const bare = wallMs(['-e', '0'])
      const version = wallMs([BIN, '--version'])
      const stat = wallMs(status)
      // The first two rounds warm the file cache.
      if (i < 2) continue
      runs.bare.push(bare)
      runs.version.push(version)
      runs.status.push(stat)
    }
    const bareNodeMs = median(runs.bare)
    const versionMs = median(runs.version)
    const statusMs = median(runs.status)
    return {
      versionMs,
      statusMs,
      bareNodeMs,
      versionToBare: Number((versionMs / bareNodeMs).toFixed(2)),
      statusToBare: Number((statusMs / bareNodeMs).toFixed(2)),
      trials
    }
  } finally {
    await mesh.cleanup()
  }
}

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CliError, EXIT } from './output.js'

/** What a running node writes to DIR/node.json (removed when it stops cleanly). */
export interface NodeInfo { pid: number, peerId: string, addrs: string[], api: string, meshId: string }

/** The data dir a command uses: `--data-dir`, else `$GOVMESH_HOME`, else none. */
export function resolveDataDir (flag: string | undefined): string | undefined {
  const env = process.env.GOVMESH_HOME
  return flag ?? (env !== undefined && env !== '' ? env : undefined)
}

/** Like `resolveDataDir`, for commands that cannot run without one. */
export function requireDataDir (flag: string | undefined): string {
  const dir = resolveDataDir(flag)
  if (dir === undefined) throw new CliError(
    'required option \'--data-dir <dir>\' not specified (or set GOVMESH_HOME)', EXIT.usage
  )
  return dir
}

/** True while the process exists (EPERM: it exists, owned by another user). */
export function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The node running on a data dir, if one is. */
export function runningNode (dir: string): NodeInfo | undefined {
  let info: NodeInfo
  try {
    info = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as NodeInfo
  } catch {
    return undefined
  }
  return Number.isInteger(info.pid) && processAlive(info.pid) && !reusedPid(info.pid) ? info : undefined
}

/** A stale node.json (left by kill -9) may name a pid the system has since given to another program. */
function reusedPid (pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('govmesh')
  } catch {
    return false // no /proc (not Linux) or not ours to read: trust the pid
  }
}

/** Refuses a data dir that does not exist or holds no node key, naming the command that makes one. */
export function checkDataDir (dir: string): void {
  if (!existsSync(dir)) {
    throw new CliError(
      `no node data dir at ${dir}: create one with \`govmesh init --data-dir ${dir}\``, EXIT.error, 'cli.no-data-dir'
    )
  }
  if (!existsSync(join(dir, 'node.key'))) {
    throw new CliError(
      `${dir} is not a node data dir (no node.key): create one with \`govmesh init --data-dir ${dir}\``, EXIT.error,
      'cli.no-data-dir'
    )
  }
}

/** The error for a data dir whose node is not running. */
export function notRunning (dir: string): CliError {
  return new CliError(`the node of ${dir} is not running: start it with \`govmesh start --data-dir ${dir} ` +
    `--genesis GENESIS.json\``,
    EXIT.error, 'cli.not-running')
}

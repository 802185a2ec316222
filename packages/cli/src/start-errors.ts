import { join } from 'node:path'
import { runningNode } from './data-dir.js'
import { CliError, EXIT } from './output.js'

/** libp2p's message lists each failed address as "  <multiaddr>: Error: listen EADDRINUSE: …". */
const FAILED_LISTEN = /^\s*(\/\S+): \w*Error: listen (\w+)/m

/** The data dir is held by another running node. */
export function dataDirInUse (dir: string): CliError {
  const other = runningNode(dir)
  const who = other !== undefined ? ` (pid ${other.pid}, API ${other.api})` : ''
  return new CliError(`data dir ${dir} is in use by another process${who}: stop that node first, or use another ` +
    `--data-dir`,
    EXIT.error, 'cli.data-dir-in-use')
}

/**
 * Turns the errors a node start commonly meets into one clear line naming the fix, or
 * returns undefined for anything else.
 */
export function explainStartError (err: unknown, dataDir: string): CliError | undefined {
  if (!(err instanceof Error)) return undefined
  const codes = [(err as { code?: unknown }).code, (err.cause as { code?: unknown } | undefined)?.code]
  if (
    err.name === 'StoreLockedError' || codes.includes('LEVEL_LOCKED') || codes.includes('store.locked') || /lock/i.test(
      String((err.cause as Error | undefined)?.message ?? '')
    )
  ) {
    return dataDirInUse(dataDir)
  }
  if (err.name === 'UnsupportedListenAddressesError' || /EADDRINUSE|EADDRNOTAVAIL|EACCES/.test(err.message)) {
    const m = FAILED_LISTEN.exec(err.message)
    const addr = m?.[1] ?? 'the --listen address'
    const why = m?.[2] === 'EADDRINUSE'
      ? 'address already in use (another process holds the port); pick another port, or tcp/0 for any free port'
      : m?.[2] === 'EADDRNOTAVAIL'
        ? 'no interface has that address; use an address of this host, or 0.0.0.0'
        : m?.[2] === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : err.message.split('\n')[0]!
    return new CliError(`cannot listen on ${addr}: ${why}`, EXIT.error, 'cli.listen-failed')
  }
  if ((err as { code?: unknown }).code === 'EADDRINUSE') {
    return new CliError(`cannot start the API: address already in use; pick another --api port (see ` +
      `${join(dataDir, 'node.json')} of other nodes)`,
      EXIT.error, 'cli.listen-failed')
  }
  return undefined
}

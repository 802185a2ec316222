import { readFileSync, writeFileSync, existsSync, rmSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { decodeGenesisFile, decodeKeyFile, toHex, peerIdFromPublicKey, type SignedEntry } from '@govmesh/core'
import {
  createGovmeshNode, createLogger, defaultLogFormat, DEFAULT_EXECUTORS, parseExecutorConfig, startApi,
  StoreDamagedError,
  type ExecutorConfig, type LogFormat, type LogLevel
} from '@govmesh/node'
import { requireDataDir, runningNode } from '../data-dir.js'
import { CliError, EXIT } from '../output.js'
import { dataDirInUse, explainStartError } from '../start-errors.js'
import { rebuildHint } from '../offline-store.js'

const collect = (v: string, prev: string[]): string[] => [...prev, v]

function parseHostPort (v: string): { host: string, port: number } {
  const m = /^(.*):(\d+)$/.exec(v)
  if (m === null) throw new CliError(`--api ${v}: expected HOST:PORT`, EXIT.usage)
  const port = Number(m[2])
  if (port > 65535) throw new CliError(`--api ${v}: port out of range`, EXIT.usage)
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port }
}

/** More worker threads than this only add memory: each holds its own copy of the core. */
const MAX_VERIFY_THREADS = 64

function parseVerifyThreads (v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!/^\d+$/.test(v) || n > MAX_VERIFY_THREADS) {
    throw new CliError(`--verify-threads ${v}: expected an integer from 0 to ${MAX_VERIFY_THREADS}`, EXIT.usage)
  }
  return n
}

export function registerStart (program: Command): void {
  program.command('start')
    .description('run a node in the foreground (stops cleanly on SIGINT/SIGTERM)')
    .option('--data-dir <dir>', 'node data directory (run `govmesh init` first; default: $GOVMESH_HOME)')
    .requiredOption('--genesis <file>', 'the mesh genesis file')
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable)', collect, [])
    .option('--bootstrap <multiaddr>', 'peer to dial on start, with /p2p/ (repeatable)', collect, [])
    .option('--api <host:port>', 'HTTP API listen address', '127.0.0.1:7700')
    .option('--zone <zone>', 'the zone this node expects to be in (the membership record wins)')
    .option('--mdns', 'discover peers on the LAN with mDNS', false)
    .option('--measurement <hex>', 'override the runtime measurement (simulates tampered code)')
    .option('--log-level <level>', 'debug | info | warn | error (debug also bridges libp2p\'s own debug logs)', 'info')
    .option('--log-format <format>', 'text | json (default: text on a terminal, else json)')
    .option(
      '--config <file>',
      'node config JSON: { "executors": { "<action>": { "type": "echo" | "sleep" | "http" | "command", ... } } }'
    )
    .option(
      '--advertise-digest <hex>', 'advertise this policy digest instead of the real one (testing aid: simulates drift)'
    )
    .option('--json', 'report a start-up error as one JSON object on stderr', false)
    .option(
      '--fsync', 'fsync every acknowledged write (survives power loss; slower). Without it writes survive kill -9',
      false
    )
    .option(
      '--verify-threads <n>',
      `worker threads that check sync batches' signatures; 0 checks them on the main thread ` +
        `(default: one per core but one, at least one; at most ${MAX_VERIFY_THREADS})`
    )
    .option(
      '--no-seal-lineage',
      'sign every execution record alone (protocol v1) instead of sealing them in batches (v2, docs/LINEAGE-BATCHES.md)'
    )
    .action(async (
      opts: {
        dataDir?: string, genesis: string, listen: string[], bootstrap: string[], api: string, zone?: string,
        mdns: boolean, measurement?: string, logLevel: string, logFormat?: string, fsync: boolean, config?: string,
        advertiseDigest?: string, verifyThreads?: string, sealLineage: boolean
      }
    ) => {
      const verifyThreads = parseVerifyThreads(opts.verifyThreads)
      const dataDir = requireDataDir(opts.dataDir)
      if (!existsSync(join(dataDir, 'node.key'))) throw new CliError(
        `${dataDir}/node.key not found: run \`govmesh init --data-dir ${dataDir}\` first`
      )
      if (runningNode(dataDir) !== undefined) throw dataDirInUse(dataDir)
      let genesisText: string
      try {
        genesisText = readFileSync(opts.genesis, 'utf8')
      } catch (err) {
        throw new CliError(`cannot read genesis ${opts.genesis}: ${(err as Error).message}`)
      }
      const genesis = decodeGenesisFile(genesisText)
      if (
        opts.measurement !== undefined && !/^[0-9a-f]{2,128}$/.test(opts.measurement)
      ) throw new CliError('--measurement: expected lower-case hex', EXIT.usage)
      if (!['debug', 'info', 'warn', 'error'].includes(opts.logLevel)) throw new CliError(
        '--log-level: expected debug, info, warn or error', EXIT.usage
      )
      const { host, port } = parseHostPort(opts.api)
      if (
        opts.logFormat !== undefined && !['text', 'json'].includes(opts.logFormat)
      ) throw new CliError('--log-format: expected text or json', EXIT.usage)
      const logger = createLogger({
        level: opts.logLevel as LogLevel,
        format: (opts.logFormat as LogFormat | undefined) ?? defaultLogFormat(),
        name: nodeName(genesis, readFileSync(join(dataDir, 'node.key'), 'utf8')),
        libp2pDebug: true
      })
      const node = await createGovmeshNode({
        dataDir,
        genesis,
        listen: opts.listen.length > 0 ? opts.listen : undefined,
        bootstrap: opts.bootstrap,
        mdns: opts.mdns,
        zone: opts.zone,
        measurement: opts.measurement,
        fsync: opts.fsync,
        verifyThreads,
        sealLineage: opts.sealLineage,
        executors: opts.config !== undefined ? readConfig(opts.config) : undefined,
        advertiseDigest: opts.advertiseDigest,
        logger
      }).catch((err: unknown) => {
        // A damaged store is refused, never repaired: name the loss and the way out on one line.
        if (err instanceof StoreDamagedError) {
          const details = `details: govmesh dag verify --data-dir ${dataDir}`
          throw new CliError(`${err.message}; ${rebuildHint(dataDir)} (${details})`)
        }
        throw explainStartError(err, dataDir) ?? err
      })
      let api
      try {
        api = await startApi({ node, host, port })
      } catch (err) {
        await node.stop()
        throw explainStartError(err, dataDir) ?? new CliError(
          `cannot start the API on ${opts.api}: ${(err as Error).message}`
        )
      }
      writeFileSync(join(dataDir, 'api-token'), api.token + '\n', { mode: 0o600 })
      writeFileSync(join(dataDir, 'api-url'), api.url + '\n')
      // Written aside and renamed: whoever sees node.json (status, scripts, tests) sees all of it.
      const info = { pid: process.pid, peerId: node.peerId, addrs: node.addrs(), api: api.url, meshId: node.meshId }
      writeFileSync(join(dataDir, 'node.json.tmp'), JSON.stringify(info, null, 2) + '\n')
      renameSync(join(dataDir, 'node.json.tmp'), join(dataDir, 'node.json'))
      logger.info('api listening', { api: api.url, tokenFile: join(dataDir, 'api-token') })
      for (const a of node.addrs()) logger.info('listening', { multiaddr: a })

      await new Promise<void>((resolve) => {
        let stopping = false
        const stop = (signal: string): void => {
          if (stopping) return
          stopping = true
          logger.info('shutting down', { signal })
          void (async () => {
            await api.close()
            await node.stop()
            rmSync(join(dataDir, 'node.json'), { force: true })
            resolve()
          })()
        }
        process.once('SIGINT', () => { stop('SIGINT') })
        process.once('SIGTERM', () => { stop('SIGTERM') })
      })
    })
}

/** The name on every log line: the node's genesis name, else its short PeerId. */
function nodeName (genesis: SignedEntry<'mesh.genesis'>, keyFile: string): string {
  const key = decodeKeyFile(keyFile).publicKey
  const hex = toHex(key)
  const named = genesis.entry.body.members.find(m => toHex(m.key) === hex)?.name
  return named ?? peerIdFromPublicKey(key).slice(-8)
}

/** Reads the node config file; executors it names replace or add to the defaults (echo, sleep). */
function readConfig (path: string): Record<string, ExecutorConfig> {
  let json: { executors?: Record<string, unknown> }
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as { executors?: Record<string, unknown> }
  } catch (err) {
    throw new CliError(`cannot read config ${path}: ${(err as Error).message}`)
  }
  const unknown = Object.keys(json).find(k => k !== 'executors')
  if (unknown !== undefined) throw new CliError(`${path}: unknown field "${unknown}"`, EXIT.usage)
  const out: Record<string, ExecutorConfig> = { ...DEFAULT_EXECUTORS }
  try {
    for (const [action, cfg] of Object.entries(json.executors ?? {})) out[action] = parseExecutorConfig(action, cfg)
  } catch (err) {
    throw new CliError(`${path}: ${(err as Error).message}`, EXIT.usage)
  }
  return out
}

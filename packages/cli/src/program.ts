import { Command, CommanderError } from 'commander'
import { GovmeshError } from '@govmesh/core/light'
import { cliVersion } from './cli-version.js'
import { allCommands, decorateHelp } from './help.js'
import { CliError, EXIT } from './output.js'

type Register = (program: Command) => void

/**
 * Every command module, in `--help` order, with the top-level commands it registers. Modules are
 * imported only when needed, so `govmesh status` never loads libp2p, level or fastify.
 */
const COMMAND_MODULES: ReadonlyArray<{ names: readonly string[], load: () => Promise<Register> }> = [
  { names: ['keygen'], load: async () => (await import('./commands/keygen.js')).registerKeygen },
  { names: ['init'], load: async () => (await import('./commands/init.js')).registerInit },
  { names: ['genesis'], load: async () => (await import('./commands/genesis.js')).registerGenesis },
  { names: ['start'], load: async () => (await import('./commands/start.js')).registerStart },
  { names: ['status', 'peers', 'join'], load: async () => (await import('./commands/status.js')).registerStatus },
  { names: ['policy', 'member'], load: async () => (await import('./commands/governance.js')).registerGovernance },
  { names: ['governor'], load: async () => (await import('./commands/governor.js')).registerGovernor },
  { names: ['dag', 'proof', 'store'], load: async () => (await import('./commands/dag.js')).registerDag },
  { names: ['exec'], load: async () => (await import('./commands/exec.js')).registerExec },
  { names: ['trust'], load: async () => (await import('./commands/trust.js')).registerTrust },
  { names: ['measurement'], load: async () => (await import('./commands/measurement.js')).registerMeasurement },
  { names: ['testnet'], load: async () => (await import('./commands/testnet.js')).registerTestnet },
  { names: ['console'], load: async () => (await import('./commands/console.js')).registerConsole },
  { names: ['version'], load: async () => (await import('./commands/version.js')).registerVersion },
  { names: ['completion'], load: async () => (await import('./commands/completion.js')).registerCompletion }
]

/** Commands that need the whole tree to do their work (completion scripts list every command). */
const NEEDS_WHOLE_TREE = new Set(['completion'])

/**
 * The top-level command names `argv` needs registered: the one it invokes, none for a bare
 * `--version`, or every command (null) for help, completion and anything unrecognised, so that
 * help and "did you mean" suggestions stay complete.
 */
export function commandsNeeded (argv: readonly string[]): ReadonlySet<string> | null {
  const args = argv.slice(2)
  const first = args.find(a => !a.startsWith('-'))
  if (first === undefined) {
    const wantsVersion = args.some(a => a === '-V' || a === '--version')
    const wantsHelp = args.some(a => a === '-h' || a === '--help')
    return wantsVersion && !wantsHelp ? new Set() : null
  }
  if (NEEDS_WHOLE_TREE.has(first) || !COMMAND_MODULES.some(m => m.names.includes(first))) return null
  return new Set([first])
}

/**
 * Builds the `govmesh` command tree: every command, or only those `argv` needs (see
 * {@link commandsNeeded}).
 *
 * @example
 * ```ts
 * const program = await createProgram(process.argv)
 * await program.parseAsync(process.argv)
 * ```
 */
export async function createProgram (argv?: readonly string[]): Promise<Command> {
  const program = new Command()
  program.name('govmesh')
    .description('govmesh: a governed execution mesh — one policy, one lineage, one trust view across every node')
    .version(cliVersion(), '-V, --version', 'print the version (`govmesh version` prints more)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  const needed = argv === undefined ? null : commandsNeeded(argv)
  const modules = COMMAND_MODULES.filter(m => needed === null || m.names.some(n => needed.has(n)))
  for (const register of await Promise.all(modules.map(async m => await m.load()))) register(program)
  decorateHelp(program)
  return program
}

interface ErrorReport { name: string, code: string, message: string, exitCode: number }

/** What an error becomes for the user: one line of text, or one JSON object with `--json`. */
function reportOf (err: unknown): ErrorReport {
  if (err instanceof CliError) return { name: err.name, code: err.code, message: err.message, exitCode: err.exitCode }
  if (err instanceof GovmeshError) return {
    name: err.name, code: err.code, message: `${err.name} (${err.code}): ${err.message}`, exitCode: EXIT.error
  }
  const e = err instanceof Error ? err : new Error(String(err))
  const hint = process.env.GOVMESH_DEBUG === undefined ? ' (GOVMESH_DEBUG=1 prints the stack)' : `\n${e.stack ?? ''}`
  return {
    name: e.name, code: 'cli.internal', message: `${e.name}: ${e.message.split('\n')[0] ?? ''}${hint}`,
    exitCode: EXIT.error
  }
}

function writeError (json: boolean, report: ErrorReport): void {
  if (json) process.stderr.write(JSON.stringify({ error: report }) + '\n')
  else process.stderr.write(`govmesh: ${report.message}\n`)
}

/** Runs the CLI and returns the exit code; errors become one clear line on stderr (JSON with `--json`). */
export async function run (argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  const program = await createProgram(argv)
  if (json) {
    // Usage errors are reported below as JSON; keep commander's own text off stderr.
    program.configureOutput({ writeErr: () => {} })
    for (
      const cmd of [program, ...allCommands(program)]
    ) cmd.configureOutput({ writeErr: () => {} }).showHelpAfterError(false)
  }
  try {
    await program.parseAsync(argv)
    // A command may set a non-zero code without throwing (exec's refusal: 3).
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version also arrive here, with exit code 0.
      if (err.exitCode === 0) return EXIT.ok
      if (json) writeError(
        true, { name: 'UsageError', code: err.code, message: err.message.replace(/^error: /, ''), exitCode: EXIT.usage }
      )
      return EXIT.usage
    }
    const report = reportOf(err)
    writeError(json, report)
    return report.exitCode
  }
}

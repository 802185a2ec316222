import { Command, CommanderError } from 'commander'
import { GovmeshError } from '@govmesh/core'
import { registerKeygen } from './commands/keygen.js'
import { registerInit } from './commands/init.js'
import { registerGenesis } from './commands/genesis.js'
import { registerStart } from './commands/start.js'
import { registerStatus } from './commands/status.js'
import { registerGovernance } from './commands/governance.js'
import { registerDag } from './commands/dag.js'
import { registerExec } from './commands/exec.js'
import { registerTrust } from './commands/trust.js'
import { registerMeasurement } from './commands/measurement.js'
import { registerTestnet } from './commands/testnet.js'
import { registerConsole } from './commands/console.js'
import { cliVersion, registerVersion } from './commands/version.js'
import { registerCompletion } from './commands/completion.js'
import { allCommands, decorateHelp } from './help.js'
import { CliError, EXIT } from './output.js'

/** Builds the `govmesh` command tree. */
export function createProgram (): Command {
  const program = new Command()
  program.name('govmesh')
    .description('govmesh: a governed execution mesh — one policy, one lineage, one trust view across every node')
    .version(cliVersion(), '-V, --version', 'print the version (`govmesh version` prints more)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  registerKeygen(program)
  registerInit(program)
  registerGenesis(program)
  registerStart(program)
  registerStatus(program)
  registerGovernance(program)
  registerDag(program)
  registerExec(program)
  registerTrust(program)
  registerMeasurement(program)
  registerTestnet(program)
  registerConsole(program)
  registerVersion(program)
  registerCompletion(program)
  decorateHelp(program)
  return program
}

interface ErrorReport { name: string, code: string, message: string, exitCode: number }

/** What an error becomes for the user: one line of text, or one JSON object with `--json`. */
function reportOf (err: unknown): ErrorReport {
  if (err instanceof CliError) return { name: err.name, code: err.code, message: err.message, exitCode: err.exitCode }
  if (err instanceof GovmeshError) return { name: err.name, code: err.code, message: `${err.name} (${err.code}): ${err.message}`, exitCode: EXIT.error }
  const e = err instanceof Error ? err : new Error(String(err))
  const hint = process.env.GOVMESH_DEBUG === undefined ? ' (GOVMESH_DEBUG=1 prints the stack)' : `\n${e.stack ?? ''}`
  return { name: e.name, code: 'cli.internal', message: `${e.name}: ${e.message.split('\n')[0] ?? ''}${hint}`, exitCode: EXIT.error }
}

function writeError (json: boolean, report: ErrorReport): void {
  if (json) process.stderr.write(JSON.stringify({ error: report }) + '\n')
  else process.stderr.write(`govmesh: ${report.message}\n`)
}

/** Runs the CLI and returns the exit code; errors become one clear line on stderr (JSON with `--json`). */
export async function run (argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  const program = createProgram()
  if (json) {
    // Usage errors are reported below as JSON; keep commander's own text off stderr.
    program.configureOutput({ writeErr: () => {} })
    for (const cmd of [program, ...allCommands(program)]) cmd.configureOutput({ writeErr: () => {} }).showHelpAfterError(false)
  }
  try {
    await program.parseAsync(argv)
    // A command may set a non-zero code without throwing (exec's refusal: 3).
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version also arrive here, with exit code 0.
      if (err.exitCode === 0) return EXIT.ok
      if (json) writeError(true, { name: 'UsageError', code: err.code, message: err.message.replace(/^error: /, ''), exitCode: EXIT.usage })
      return EXIT.usage
    }
    const report = reportOf(err)
    writeError(json, report)
    return report.exitCode
  }
}

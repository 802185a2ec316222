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
import { CliError, EXIT } from './output.js'

/** Builds the `govmesh` command tree. */
export function createProgram (): Command {
  const program = new Command()
  program.name('govmesh')
    .description('govmesh: a governed execution mesh — one policy, one lineage, one trust view across every node')
    .version('0.1.0')
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
  return program
}

/** Runs the CLI and returns the exit code; errors become one clear line on stderr. */
export async function run (argv: string[]): Promise<number> {
  const program = createProgram()
  try {
    await program.parseAsync(argv)
    // A command may set a non-zero code without throwing (exec's refusal: 3).
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version also arrive here, with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    if (err instanceof CliError) {
      process.stderr.write(`govmesh: ${err.message}\n`)
      return err.exitCode
    }
    if (err instanceof GovmeshError) {
      process.stderr.write(`govmesh: ${err.name} (${err.code}): ${err.message}\n`)
      return EXIT.error
    }
    process.stderr.write(`govmesh: ${(err as Error).stack ?? String(err)}\n`)
    return EXIT.error
  }
}

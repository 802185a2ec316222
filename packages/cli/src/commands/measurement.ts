import type { Command } from 'commander'
import { measureRuntime } from '@govmesh/node/measurement'
import { emit } from '../output.js'

export function registerMeasurement (program: Command): void {
  program.command('measurement')
    .description(
      'print this build\'s runtime measurement (what nodes built from it advertise; put it in the policy allowlist)'
    )
    .option('--json', 'print {"measurement"} as JSON', false)
    .action((opts: { json: boolean }) => {
      const measurement = measureRuntime()
      emit(opts.json, { measurement }, () => measurement)
    })
}

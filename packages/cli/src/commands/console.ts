import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { CONSOLE_DIST_DIR } from '@govmesh/console'
import { CliError, emit } from '../output.js'

/** `govmesh console …`: the web console's offline pieces. */
export function registerConsole (program: Command): void {
  const group = program.command('console').description('the web console (every node serves it at its API address)')
  group.command('proof-viewer')
    .description(
      'write the proof viewer as one self-contained HTML file (works from file://, makes no network request)'
    )
    .requiredOption('--out <file>', 'where to write the .html file')
    .option('--json', 'print {"out", "bytes"}', false)
    .action((opts: { out: string, json: boolean }) => {
      const source = join(CONSOLE_DIST_DIR, 'proof-viewer.html')
      if (!existsSync(source)) throw new CliError(`the console is not built (${source} is missing; run npm run build)`)
      const html = readFileSync(source)
      try {
        writeFileSync(opts.out, html)
      } catch (err) {
        throw new CliError((err as Error).message)
      }
      emit(opts.json, { out: opts.out, bytes: html.length }, () =>
        `wrote ${opts.out} (${html.length} bytes): open it in a browser, drop a proof CAR and the genesis file`)
    })
}

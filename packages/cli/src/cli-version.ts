import { readFileSync } from 'node:fs'

/** This package's version, from its package.json (what `govmesh --version` prints). */
export function cliVersion (): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

import { chmodSync, openSync, readFileSync, writeSync, closeSync, existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { decodeKeyFile, encodeKeyFile, type KeyPair } from '@govmesh/core'
import { CliError } from './output.js'

/**
 * Writes a key file readable only by its owner (creating missing directories, mode 0700); refuses to replace one unless
 * `force`.
 */
export function writeKeyFile (path: string, keys: KeyPair, force: boolean): void {
  if (!force && existsSync(path)) throw new CliError(`${path} exists; pass --force to overwrite it`)
  let fd: number
  try {
    // Directories made for a key are private to its owner, like ~/.ssh.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    fd = openSync(path, force ? 'w' : 'wx', 0o600)
  } catch (err) {
    throw new CliError(`cannot write ${path}: ${(err as Error).message}`)
  }
  try {
    writeSync(fd, JSON.stringify(encodeKeyFile(keys), null, 2) + '\n')
  } finally {
    closeSync(fd)
  }
  // openSync's mode is filtered by the umask and ignored for an existing file.
  chmodSync(path, 0o600)
}

/** Reads and checks a key file, with the path in any error. */
export function readKeyFile (path: string): KeyPair {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new CliError(`cannot read key file ${path}: ${(err as Error).message}`)
  }
  try {
    return decodeKeyFile(text)
  } catch (err) {
    throw new CliError(`${path}: ${(err as Error).message}`)
  }
}

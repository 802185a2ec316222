import { readdirSync, readFileSync } from 'node:fs'
import { spawn } from 'node:child_process'

/** Pids of the processes whose command line mentions `text` (e.g. a test's temporary directory). */
export function processesMentioning (text: string): number[] {
  const pids: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) pids.push(Number(name))
    } catch { /* the process exited while we looked */ }
  }
  return pids
}

/** SIGKILLs leftovers a failed test may leave (only processes naming the test's own directory). */
export function killMentioning (text: string): void {
  for (const pid of processesMentioning(text)) {
    try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  }
}

/** Runs a bash script with extra environment; resolves with its exit code and combined output. */
export async function runScript (
  script: string, env: Record<string, string | undefined>, cwd: string, timeoutMs: number
): Promise<{ code: number | null, text: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [script], { env: { ...process.env, ...env }, cwd })
    let text = ''
    child.stdout.on('data', (d: Buffer) => { text += d.toString() })
    child.stderr.on('data', (d: Buffer) => { text += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, text }) })
  })
}

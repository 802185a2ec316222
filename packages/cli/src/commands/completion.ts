import type { Command } from 'commander'
import { CliError, EXIT } from '../output.js'
import { allCommands, commandPath } from '../help.js'

/** For each command path ('' for the top level): the words that may follow it. */
function vocabulary (program: Command): Map<string, string[]> {
  const words = new Map<string, string[]>()
  for (const cmd of [program, ...allCommands(program)]) {
    const path = cmd === program ? '' : commandPath(cmd)
    const subs = cmd.commands.map(c => c.name())
    const flags = cmd.options.flatMap(o => [o.short, o.long].filter((f): f is string => f !== undefined))
    words.set(path, [...subs, ...flags, '--help'])
  }
  return words
}

/** A bash completion script for the command tree (sourced by bash, or by zsh through bashcompinit). */
function bashScript (program: Command): string {
  const cases = [...vocabulary(program)].map(([path, w]) => `    "${path}") words="${w.join(' ')}" ;;`)
  return `# govmesh bash completion: source this file, or save it as /etc/bash_completion.d/govmesh
_govmesh() {
  local cur path word words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  # The command path: the words before the cursor that are subcommands of what precedes them.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in -*) continue ;; esac
    case " $(_govmesh_words "$path") " in *" $word "*) path="\${path:+$path }$word" ;; esac
  done
  COMPREPLY=( $(compgen -W "$(_govmesh_words "$path")" -- "$cur") )
  # A flag's value or an argument: offer file names too.
  [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=( $(compgen -f -- "$cur") )
  return 0
}
_govmesh_words() {
  local words=""
  case "$1" in
${cases.join('\n')}
  esac
  echo "$words"
}
complete -o filenames -F _govmesh govmesh
`
}

export function registerCompletion (program: Command): void {
  program.command('completion')
    .description('print a shell completion script: eval "$(govmesh completion bash)" (or zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell === 'bash') {
        process.stdout.write(bashScript(program))
      } else if (shell === 'zsh') {
        process.stdout.write('# govmesh zsh completion (through bashcompinit): eval "$(govmesh completion zsh)" ' +
          'in ~/.zshrc\n' +
          'autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n' + bashScript(program))
      } else {
        throw new CliError(`completion: unknown shell "${shell}" (expected bash or zsh)`, EXIT.usage)
      }
    })
}

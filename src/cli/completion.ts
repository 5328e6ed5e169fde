// Shell completion like cobra's (compat spec §1: `kubelogin completion bash|zsh|fish|powershell`,
// each with --no-descriptions, and the hidden `__complete` / `__completeNoDesc` the scripts call).
// The scripts hand the words typed so far to `kubelogin __complete <words…> <word being typed>`,
// which answers in cobra's protocol: one `value<TAB>description` per line, then `:<directive>`.
// Loaded only for these commands: a cached get-token never reaches it.
import { UsageError } from "../errors.js";
import { KNOWN_ENVIRONMENTS } from "../login/authority.js";
import { parseFlags } from "../options/parse-flags.js";
import { GLOBAL_OPTIONS, LOGIN_MODES, ROOT_OPTIONS, type OptionSpec } from "../options/table.js";
import type { Command } from "./command.js";
import { COMMANDS } from "./commands.js";
import { scanGlobalFlags } from "./run.js";

/** Cobra's ShellCompDirective bits. */
export const Directive = { error: 1, noSpace: 2, noFileComp: 4 } as const;

export interface Completions {
  readonly items: readonly { readonly value: string; readonly description: string }[];
  readonly directive: number;
}

const SHELLS = ["bash", "zsh", "fish", "powershell"] as const;
type Shell = (typeof SHELLS)[number];

/** The values a flag takes, where they are a fixed set. */
const FLAG_VALUES: Readonly<Record<string, readonly string[]>> = {
  "--login": LOGIN_MODES,
  "--environment": KNOWN_ENVIRONMENTS,
  "--cache-backend": ["auto", "keychain", "file"],
};
/** Flags whose value is a path: the shell completes file names. Every other value is free text. */
const PATH_FLAGS: ReadonlySet<string> = new Set(["--client-certificate", "--federated-token-file", "--token-cache-dir", "--cache-dir", "--kubeconfig", "--azure-config-dir"]);

const HELP: OptionSpec = { key: "help", flag: "--help", short: "-h", type: "bool", help: "help for kubelogin" };

/** What to offer for `words` (after the program name; the last one is the word being typed). */
export function complete(words: readonly string[], commands: readonly Command[]): Completions {
  const typed = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  const scan = scanGlobalFlags(before);
  const command = commands.find((c) => c.name === scan.command);
  const options: readonly OptionSpec[] = [...(command ? command.options : scan.command === undefined ? ROOT_OPTIONS : GLOBAL_OPTIONS), HELP];
  const spec = (flag: string) => options.find((o) => o.flag === flag || o.short === flag);

  // After a bare `--` every word is an argument, as cobra has it: no flag names, no flag values.
  if (flagsEnded(before, spec)) return positionalCompletions(words, commands, options);

  // The value of a flag: `--login <typed>` or `--login=<typed>`.
  const attached = /^(--?[^=]+)=(.*)$/s.exec(typed);
  const valueOf = attached ? spec(attached[1]!) : before.length > 0 ? spec(before.at(-1)!) : undefined;
  const previousTakesValue = !attached && valueOf !== undefined && valueOf.type !== "bool" && !before.at(-1)!.includes("=");
  if (attached || previousTakesValue) {
    if (!valueOf || valueOf.type === "bool") return { items: [], directive: Directive.noFileComp };
    const prefix = attached ? `${attached[1]}=` : "";
    const values = FLAG_VALUES[valueOf.flag];
    if (values) return filtered(values.map((v) => ({ value: `${prefix}${v}`, description: "" })), typed, Directive.noFileComp);
    return { items: [], directive: PATH_FLAGS.has(valueOf.flag) ? 0 : Directive.noFileComp };
  }

  if (typed.startsWith("-")) {
    const visible = options.filter((o) => !o.deprecated);
    const flags = visible.flatMap((o) => [
      { value: o.flag, description: o.help },
      ...(typed === "-" && o.short ? [{ value: o.short, description: o.help }] : []),
    ]);
    return filtered(flags, typed, Directive.noFileComp);
  }
  return positionalCompletions(words, commands, options);
}

/** Whether a bare `--` among `words` ended the flags (one that is a flag's value does not). */
function flagsEnded(words: readonly string[], spec: (flag: string) => OptionSpec | undefined): boolean {
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "--") return true;
    const flag = spec(word);
    if (flag && flag.type !== "bool") i++;
  }
  return false;
}

/** What to offer for a word that is an argument, not a flag or a flag's value. */
function positionalCompletions(words: readonly string[], commands: readonly Command[], options: readonly OptionSpec[]): Completions {
  const typed = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  const scan = scanGlobalFlags(before);
  if (scan.command === undefined) {
    const names = commands.filter((c) => !c.hidden && !c.deprecated).map((c) => ({ value: c.name, description: c.summary }));
    return filtered([...names, { value: "help", description: "Help about any command" }], typed, Directive.noFileComp);
  }
  if (scan.command === "completion") {
    const given = parseFlags(before.slice(scan.commandIndex + 1), options).positionals;
    const shells = given.length > 0 ? [] : SHELLS.map((shell) => ({ value: shell, description: `Generate the autocompletion script for ${shell}` }));
    return filtered(shells, typed, Directive.noFileComp);
  }
  if (scan.command === "help") {
    const names = commands.filter((c) => !c.hidden).map((c) => ({ value: c.name, description: c.summary }));
    return filtered(names, typed, Directive.noFileComp);
  }
  return { items: [], directive: Directive.noFileComp };
}

function filtered(items: Completions["items"], typed: string, directive: number): Completions {
  return { items: items.filter((item) => item.value.startsWith(typed)), directive };
}

export function formatCompletions({ items, directive }: Completions, descriptions: boolean): string {
  const lines = items.map((item) => (descriptions && item.description ? `${item.value}\t${item.description.split("\n")[0]}` : item.value));
  return [...lines, `:${directive}`].join("\n") + "\n";
}

async function allCommands(): Promise<Command[]> {
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

function completeCommand(name: string, descriptions: boolean): Command {
  return {
    name,
    summary: "Request shell completion choices for the specified command-line",
    hidden: true,
    rawArgs: true,
    options: [],
    async run(args, { rt }) {
      rt.stdout.write(formatCompletions(complete(args, await allCommands()), descriptions));
    },
  };
}

export const completeWithDescriptionsCommand = completeCommand("__complete", true);
export const completeNoDescriptionsCommand = completeCommand("__completeNoDesc", false);

const COMPLETION_OPTIONS: readonly OptionSpec[] = [
  { key: "noDescriptions", flag: "--no-descriptions", type: "bool", help: "disable completion descriptions" },
  ...GLOBAL_OPTIONS,
];

export const completionCommand: Command = {
  name: "completion",
  summary: "Generate the autocompletion script for the specified shell",
  options: COMPLETION_OPTIONS,
  async run(args, { rt }) {
    const parsed = parseFlags(args, COMPLETION_OPTIONS);
    const [shell, ...extra] = parsed.positionals;
    if (shell === undefined || extra.length > 0 || !(SHELLS as readonly string[]).includes(shell)) {
      throw new UsageError(`completion needs one of ${SHELLS.join(", ")}, e.g. 'kubelogin completion bash'`);
    }
    rt.stdout.write(completionScript(shell as Shell, parsed.values.noDescriptions !== true));
  },
};

export function completionScript(shell: Shell, descriptions: boolean): string {
  const request = descriptions ? "__complete" : "__completeNoDesc";
  return SCRIPTS[shell](request);
}

const SCRIPTS: Record<Shell, (request: string) => string> = {
  // Words come from the line up to the cursor, so `--login=sp` stays one word; bash then replaces
  // only the part after `=` (a word break), so that part is what COMPREPLY holds.
  bash: () => `# bash completion for kubelogin
# source <(kubelogin completion bash)
_kubelogin() {
    local line="\${COMP_LINE:0:COMP_POINT}"
    local -a words lines
    read -r -a words <<< "$line"
    [[ "$line" =~ [[:space:]]$ ]] && words+=("")
    local cur="\${words[\${#words[@]}-1]}"
    mapfile -t lines < <("\${words[0]}" __completeNoDesc "\${words[@]:1}" 2>/dev/null)
    COMPREPLY=()
    (( \${#lines[@]} > 0 )) || return
    local directive="\${lines[\${#lines[@]}-1]#:}"
    unset 'lines[\${#lines[@]}-1]'
    (( directive & 1 )) && return
    (( directive & 2 )) && compopt -o nospace 2>/dev/null
    (( directive & 4 )) && compopt +o default 2>/dev/null
    local prefix=""
    [[ "$cur" == *=* && "$COMP_WORDBREAKS" == *=* ]] && prefix="\${cur%%=*}="
    local value
    for value in "\${lines[@]}"; do
        COMPREPLY+=("\${value#"$prefix"}")
    done
}
complete -o default -F _kubelogin kubelogin
`,
  zsh: (request) => `#compdef kubelogin
compdef _kubelogin kubelogin
# source <(kubelogin completion zsh)   (after compinit)
_kubelogin() {
    local -a lines completions
    local line value description directive
    lines=("\${(@f)$(\${words[1]} ${request} "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
    (( \${#lines} > 0 )) || return 1
    directive=\${lines[-1]#:}
    lines=("\${(@)lines[1,-2]}")
    (( directive & 1 )) && return 1
    for line in "\${lines[@]}"; do
        [[ -z $line ]] && continue
        value=\${line%%$'\\t'*}
        description=""
        [[ $line == *$'\\t'* ]] && description=\${line#*$'\\t'}
        completions+=("\${value//:/\\\\:}\${description:+:$description}")
    done
    if (( \${#completions} > 0 )); then
        if (( directive & 2 )); then _describe 'kubelogin' completions -S ''; else _describe 'kubelogin' completions; fi
    elif (( ! (directive & 4) )); then
        _files
    fi
}
if [ "$funcstack[1]" = "_kubelogin" ]; then
    _kubelogin "$@"
fi
`,
  fish: (request) => `# fish completion for kubelogin
# kubelogin completion fish | source
function __kubelogin_complete
    set -l words (commandline -opc)
    set -l lines (kubelogin ${request} $words[2..-1] (commandline -ct) 2>/dev/null)
    test (count $lines) -gt 0; or return
    set -l directive (string replace -r '^:' '' -- $lines[-1])
    set -e lines[-1]
    if test (math "bitand($directive, 1)") -ne 0
        return
    end
    if test (count $lines) -eq 0; and test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\\n' $lines
end
complete -c kubelogin -f -a '(__kubelogin_complete)'
`,
  powershell: (request) => `# powershell completion for kubelogin
# kubelogin completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -CommandName 'kubelogin' -Native -ScriptBlock {
    param($WordToComplete, $CommandAst, $CursorPosition)
    $words = @($CommandAst.CommandElements | Where-Object { $_.Extent.EndOffset -le $CursorPosition } | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
    if ($WordToComplete -ne '' -and $words.Count -gt 0) { $words = $words[0..($words.Count - 2)] }
    $lines = @(& kubelogin ${request} @words $(if ($WordToComplete -eq '') { '""' } else { $WordToComplete }) 2>$null)
    if ($lines.Count -eq 0) { return }
    $directive = [int]($lines[-1].TrimStart(':'))
    if ($directive -band 1) { return }
    foreach ($line in $lines[0..($lines.Count - 2)]) {
        if ($lines.Count -lt 2) { break }
        $value, $description = $line -split "\`t", 2
        if (-not $description) { $description = $value }
        [System.Management.Automation.CompletionResult]::new($value, $value, 'ParameterValue', $description)
    }
}
`,
};

// Help, --version and the command tree, rendered by yargs from the same Command data run.ts
// dispatches on. Loaded only when one of those is asked for.
import { readFile } from "node:fs/promises";
import yargs, { type Argv } from "yargs";
import { formatGoDuration } from "../options/duration.js";
import { DEFAULT_TIMEOUT_MS, GLOBAL_OPTIONS, type OptionSpec } from "../options/table.js";
import type { Runtime } from "../runtime.js";
import type { Command } from "./command.js";
import { COMMANDS } from "./commands.js";

const ROOT_SUMMARY = "login to azure active directory and populate kubeconfig with AAD tokens";

/** Help for one command, or the root's; `usageOnly` drops the summary line, as cobra's Usage() does. */
export async function helpText(commandName: string | undefined, { usageOnly = false } = {}): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const parser = buildParser(commands);
  const request = commandName === undefined ? ["--help"] : [commandName, "--help"];
  const output = await new Promise<string>((resolve, reject) => {
    void parser.parse(request, {}, (err, _args, text) => (err ? reject(err) : resolve(text)));
  });
  return `${usageOnly ? output.replace(`${ROOT_SUMMARY}\n\n`, "") : output}\n`;
}

function buildParser(commands: readonly Command[]): Argv {
  let parser = yargs()
    .scriptName("kubelogin")
    .usage(`${ROOT_SUMMARY}\n\nUsage: kubelogin [command]`)
    .version(false)
    .help("help")
    .alias("help", "h")
    .wrap(120)
    .exitProcess(false);
  parser = declare(parser, GLOBAL_OPTIONS);
  parser = parser.option("version", { type: "boolean", describe: "version for kubelogin", global: false });
  for (const command of commands) {
    parser = parser.command({
      command: command.name,
      describe: command.hidden ? false : command.summary,
      builder: (sub: Argv) => declare(sub.usage(`${command.summary}\n\nUsage: kubelogin ${command.name} [flags]`), command.options),
      handler: () => undefined,
    });
  }
  return parser;
}

/** Flags sorted by name, as cobra lists them, with pflag-style defaults in the text. */
function declare(parser: Argv, options: readonly OptionSpec[]): Argv {
  const visible = options.filter((o) => !o.deprecated);
  for (const option of [...visible].sort((a, b) => a.flag.localeCompare(b.flag))) {
    const name = option.flag.slice(2);
    const suffix = option.type === "duration" ? ` (default ${formatGoDuration(DEFAULT_TIMEOUT_MS)})` : "";
    parser = parser.option(name, {
      type: option.type === "bool" ? "boolean" : "string",
      describe: `${option.help}${suffix}`,
      ...(option.short && option.short.slice(1) !== name ? { alias: option.short.slice(1) } : {}),
    });
  }
  return parser;
}

// Set by scripts/build.mjs (esbuild define) from scripts/build-info.mjs; absent when the sources
// run unbundled (vitest, tsx), which then report what they can.
declare const __KUBELOGIN_BUILD_GITHASH__: string | undefined;
declare const __KUBELOGIN_BUILD_BUILDTIME__: string | undefined;

export async function versionText(rt: Runtime): Promise<string> {
  const built = typeof __KUBELOGIN_BUILD_GITHASH__ === "string" && typeof __KUBELOGIN_BUILD_BUILDTIME__ === "string";
  const gitHash = built ? __KUBELOGIN_BUILD_GITHASH__ : `v${await packageVersion()}`;
  // Upstream's five-line layout (compat spec §0.1), with this runtime's values.
  return [
    "kubelogin version ",
    `git hash: ${gitHash}`,
    `Runtime version: ${rt.build.runtimeVersion}`,
    `Build time: ${built ? __KUBELOGIN_BUILD_BUILDTIME__ : "unknown"}`,
    `Platform: ${rt.build.platform}`,
  ].join("\n") + "\n";
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

// Browsers for the interactive-login tests: what a person's browser does with the sign-in URL
// (visitSignInUrl, no browser at all), and real headless Chromium started through $BROWSER.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * GETs the authorization URL and submits the form_post page it returns to the loopback redirect,
 * as a browser's auto-submitting form would. Resolves with the loopback server's page.
 */
export async function visitSignInUrl(url: string): Promise<string> {
  const page = await fetch(url);
  const html = await page.text();
  if (!page.ok) throw new Error(`test browser: the authorization endpoint answered ${page.status}: ${html}`);
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) throw new Error(`test browser: no form in the authorization page: ${html}`);
  const fields = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields.append(name!, unescapeHtml(value!));
  const answer = await fetch(unescapeHtml(action), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: fields.toString() });
  return answer.text();
}

function unescapeHtml(text: string): string {
  return text.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

/**
 * Whether the tests that need Debian's chromium can run: under CI=true a missing one is a failure
 * (the test says so), elsewhere the test is skipped with the package named.
 */
export function chromiumAvailability(env: NodeJS.ProcessEnv = process.env): { run: boolean; skipReason: string } {
  const present = existsSync(CHROMIUM) && spawnSync(CHROMIUM, ["--version"], { stdio: "ignore" }).status === 0;
  if (present || env.CI === "true") return { run: true, skipReason: "" };
  return { run: false, skipReason: "needs the Debian package chromium (scripts/install-test-deps.sh installs it)" };
}

export interface HeadlessChromium {
  /** The $BROWSER value: a wrapper script that records each launch and execs headless Chromium. */
  readonly command: string;
  /** How many times the wrapper was started so far. */
  launches(): Promise<number>;
  /** Kills every Chromium the wrapper started (each is its own process group) and removes the profile. */
  close(): Promise<void>;
}

export async function headlessChromium(): Promise<HeadlessChromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the Debian package chromium (scripts/install-test-deps.sh)`);
  const dir = await mkdtemp(join(tmpdir(), "kubelogin-chromium-"));
  const launchLog = join(dir, "launches");
  const command = join(dir, "browser.sh");
  // The fake IdP's certificate comes from the test CA: Chromium is told to accept it, which is
  // what NSS trust would do in a profile. exec keeps the wrapper's pid, so killing the process
  // group (the opener starts it detached) ends Chromium and its children.
  await writeFile(
    command,
    [
      "#!/bin/sh",
      `echo $$ >> '${launchLog}'`,
      `exec ${CHROMIUM} --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \\`,
      `  --disable-component-update --disable-sync --ignore-certificate-errors --user-data-dir='${dir}/profile-'$$ "$1"`,
      "",
    ].join("\n"),
  );
  await chmod(command, 0o755);
  const pids = async (): Promise<number[]> =>
    (await readFile(launchLog, "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map(Number);
  return {
    command,
    launches: async () => (await pids()).length,
    async close() {
      for (const pid of await pids()) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

// Module resolve hook: appends every resolved URL to $KUBELOGIN_LOAD_LOG, so a test can see which
// packages a run loaded.
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (process.env.KUBELOGIN_LOAD_LOG) appendFileSync(process.env.KUBELOGIN_LOAD_LOG, `${result.url}\n`);
  return result;
}

import { getToken } from "../exec/get-token.js";
import { prepareOptions } from "../options/prepare.js";
import { GET_TOKEN_OPTIONS, GLOBAL_OPTIONS } from "../options/table.js";
import type { Command } from "./command.js";

const options = [...GET_TOKEN_OPTIONS, ...GLOBAL_OPTIONS];

export const getTokenCommand: Command = {
  name: "get-token",
  summary: "get AAD token",
  options,
  async run(args, ctx) {
    const { options: validated, provenance } = prepareOptions(args, options, ctx);
    await getToken({ options: validated, provenance }, ctx);
  },
};

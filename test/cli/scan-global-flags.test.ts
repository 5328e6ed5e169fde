// run.ts finds the subcommand and klog's -v wherever they appear, as cobra's persistent flags do.
import { describe, expect, test } from "vitest";
import { UsageError } from "../../src/errors.js";
import { scanGlobalFlags, type GlobalScan } from "../../src/cli/run.js";

describe("scanGlobalFlags", () => {
  test.each<[readonly string[], GlobalScan]>([
    [[], { command: undefined, commandIndex: -1, verbosity: 0, help: false, version: false }],
    [["get-token"], { command: "get-token", commandIndex: 0, verbosity: 0, help: false, version: false }],
    [["-v", "5", "get-token"], { command: "get-token", commandIndex: 2, verbosity: 5, help: false, version: false }],
    [["--v", "5", "get-token"], { command: "get-token", commandIndex: 2, verbosity: 5, help: false, version: false }],
    [["--v=5", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 5, help: false, version: false }],
    [["-v=5", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 5, help: false, version: false }],
    [["-v5", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 5, help: false, version: false }],
    [["-v10", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 10, help: false, version: false }],
    [["--logtostderr", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 0, help: false, version: false }],
    [["--logtostderr=false", "-v", "1", "convert-kubeconfig"], { command: "convert-kubeconfig", commandIndex: 3, verbosity: 1, help: false, version: false }],
    [["get-token", "-l", "spn", "-v", "10"], { command: "get-token", commandIndex: 0, verbosity: 10, help: false, version: false }],
    [["get-token", "--server-id", "srv", "--v=3"], { command: "get-token", commandIndex: 0, verbosity: 3, help: false, version: false }],
    [["-v", "2", "-v", "7", "get-token"], { command: "get-token", commandIndex: 4, verbosity: 7, help: false, version: false }],
    [["-v", "-1", "get-token"], { command: "get-token", commandIndex: 2, verbosity: -1, help: false, version: false }],
    [["-v", "+4", "get-token"], { command: "get-token", commandIndex: 2, verbosity: 4, help: false, version: false }],
    [["get-token", "-h"], { command: "get-token", commandIndex: 0, verbosity: 0, help: true, version: false }],
    [["--help"], { command: undefined, commandIndex: -1, verbosity: 0, help: true, version: false }],
    [["--version"], { command: undefined, commandIndex: -1, verbosity: 0, help: false, version: true }],
    [["help", "get-token"], { command: "help", commandIndex: 0, verbosity: 0, help: false, version: false }],
    [["foo"], { command: "foo", commandIndex: 0, verbosity: 0, help: false, version: false }],
    [["--", "-v", "x", "get-token"], { command: undefined, commandIndex: -1, verbosity: 0, help: false, version: false }],
    [["get-token", "--", "-v", "x", "-h"], { command: "get-token", commandIndex: 0, verbosity: 0, help: false, version: false }],
  ])("%j", (argv, want) => {
    expect(scanGlobalFlags(argv)).toEqual(want);
  });

  test.each<[readonly string[], string]>([
    [["-v", "x", "get-token"], 'invalid argument "x" for "-v, --v" flag: strconv.ParseInt: parsing "x": invalid syntax'],
    [["--v=x", "get-token"], 'invalid argument "x" for "-v, --v" flag: strconv.ParseInt: parsing "x": invalid syntax'],
    [["get-token", "-v", "1.5"], 'invalid argument "1.5" for "-v, --v" flag: strconv.ParseInt: parsing "1.5": invalid syntax'],
  ])("%j → %s", (argv, message) => {
    expect(() => scanGlobalFlags(argv)).toThrow(UsageError);
    expect(() => scanGlobalFlags(argv)).toThrow(new UsageError(message));
  });
});

describe("cobra/pflag edge cases", () => {
  test("-v without a value: pflag says `flag needs an argument: 'v' in -v`", () => {
    expect(() => scanGlobalFlags(["get-token", "-v"])).toThrow(new UsageError("flag needs an argument: 'v' in -v"));
  });

  test("--v without a value: pflag says `flag needs an argument: --v`", () => {
    expect(() => scanGlobalFlags(["get-token", "--v"])).toThrow(new UsageError("flag needs an argument: --v"));
  });

  test("cobra's stripFlags skips the value of a flag before the subcommand (`-l spn get-token`)", () => {
    expect(scanGlobalFlags(["-l", "spn", "get-token"])).toMatchObject({ command: "get-token", commandIndex: 2 });
  });

  test("--v5 is not klog's flag (pflag: unknown flag: --v5), so it must not set the verbosity", () => {
    expect(scanGlobalFlags(["get-token", "--v5"]).verbosity).toBe(0);
  });
});

test("--version after a command is left to the command's parser (root-only flag)", () => {
  expect(scanGlobalFlags(["get-token", "--version"]).version).toBe(false);
  expect(scanGlobalFlags(["--version"]).version).toBe(true);
});

test("a flag value that looks like -h is a value, not a request for help", () => {
  expect(scanGlobalFlags(["get-token", "--client-id", "-h"]).help).toBe(false);
});

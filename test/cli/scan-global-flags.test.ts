// run.ts finds the subcommand and klog's -v wherever they appear, as cobra's persistent flags do.
// A bad -v is not the scan's to report: the command's flag parser does, in pflag's order.
import { describe, expect, test } from "vitest";
import { run, scanGlobalFlags, type GlobalScan } from "../../src/cli/run.js";
import { testRuntime } from "../support/runtime.js";

describe("scanGlobalFlags", () => {
  test.each<[readonly string[], GlobalScan]>([
    [[], { command: undefined, commandIndex: -1, verbosity: 0 }],
    [["get-token"], { command: "get-token", commandIndex: 0, verbosity: 0 }],
    [["-v", "5", "get-token"], { command: "get-token", commandIndex: 2, verbosity: 5 }],
    [["--v", "5", "get-token"], { command: "get-token", commandIndex: 2, verbosity: 5 }],
    [["--v=5", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 5 }],
    [["-v=5", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 5 }],
    [["-v5", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 5 }],
    [["-v10", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 10 }],
    [["--logtostderr", "get-token"], { command: "get-token", commandIndex: 1, verbosity: 0 }],
    [["--logtostderr=false", "-v", "1", "convert-kubeconfig"], { command: "convert-kubeconfig", commandIndex: 3, verbosity: 1 }],
    [["get-token", "-l", "spn", "-v", "10"], { command: "get-token", commandIndex: 0, verbosity: 10 }],
    [["get-token", "--server-id", "srv", "--v=3"], { command: "get-token", commandIndex: 0, verbosity: 3 }],
    [["-v", "2", "-v", "7", "get-token"], { command: "get-token", commandIndex: 4, verbosity: 7 }],
    [["-v", "-1", "get-token"], { command: "get-token", commandIndex: 2, verbosity: -1 }],
    [["-v", "+4", "get-token"], { command: "get-token", commandIndex: 2, verbosity: 4 }],
    [["-v", "x", "get-token"], { command: "get-token", commandIndex: 2, verbosity: 0 }],
    [["get-token", "-h"], { command: "get-token", commandIndex: 0, verbosity: 0 }],
    [["--help"], { command: undefined, commandIndex: -1, verbosity: 0 }],
    [["help", "get-token"], { command: "help", commandIndex: 0, verbosity: 0 }],
    [["foo"], { command: "foo", commandIndex: 0, verbosity: 0 }],
    [["--", "-v", "x", "get-token"], { command: undefined, commandIndex: -1, verbosity: 0 }],
    [["get-token", "--", "-v", "x", "-h"], { command: "get-token", commandIndex: 0, verbosity: 0 }],
  ])("%j", (argv, want) => {
    expect(scanGlobalFlags(argv)).toEqual(want);
  });

  test("cobra's stripFlags skips the value of a flag before the subcommand (`-l spn get-token`)", () => {
    expect(scanGlobalFlags(["-l", "spn", "get-token"])).toMatchObject({ command: "get-token", commandIndex: 2 });
  });

  test("--v5 is not klog's flag (pflag: unknown flag: --v5), so it must not set the verbosity", () => {
    expect(scanGlobalFlags(["get-token", "--v5"]).verbosity).toBe(0);
  });
});

describe("-v errors are pflag's, for an int32 klog Level", () => {
  test.each<[readonly string[], string]>([
    [["-v", "x", "get-token"], 'invalid argument "x" for "-v, --v" flag: strconv.ParseInt: parsing "x": invalid syntax'],
    [["--v=x", "get-token"], 'invalid argument "x" for "-v, --v" flag: strconv.ParseInt: parsing "x": invalid syntax'],
    [["get-token", "-v", "1.5"], 'invalid argument "1.5" for "-v, --v" flag: strconv.ParseInt: parsing "1.5": invalid syntax'],
    [["-v", "99999999999", "get-token"], 'invalid argument "99999999999" for "-v, --v" flag: strconv.ParseInt: parsing "99999999999": value out of range'],
    [["-v", "2147483648"], 'invalid argument "2147483648" for "-v, --v" flag: strconv.ParseInt: parsing "2147483648": value out of range'],
    [["remove-cache-dir", "-v=-2147483649"], 'invalid argument "-2147483649" for "-v, --v" flag: strconv.ParseInt: parsing "-2147483649": value out of range'],
    [["get-token", "-v"], "flag needs an argument: 'v' in -v"],
    [["get-token", "--v"], "flag needs an argument: --v"],
    // pflag stops at the first bad flag, whichever it is.
    [["get-token", "--bogus", "-v", "x"], "unknown flag: --bogus"],
    [["get-token", "-v", "x", "--bogus"], 'invalid argument "x" for "-v, --v" flag: strconv.ParseInt: parsing "x": invalid syntax'],
  ])("%j → %s", async (argv, message) => {
    const rt = testRuntime();
    expect(await run(argv, rt)).toBe(1);
    expect(rt.stderr.text()).toBe(`Error: ${message}\n`);
  });

  test("the int32 bounds themselves are accepted", async () => {
    for (const level of ["2147483647", "-2147483648"]) {
      const rt = testRuntime();
      expect(await run(["-v", level, "--help"], rt)).toBe(0);
    }
  });
});

// Which of upstream's two breadcrumbs a user sign-in's failure carries: GetToken's with a saved
// record or for a credential with no separate sign-in step (PoP), otherwise Authenticate's.
import { expect, test } from "vitest";
import { signInStepOf } from "../../src/login/sign-in-step.js";

test("only a credential that authenticates, with no record yet, fails at Authenticate", () => {
  expect(signInStepOf(false)).toBe("failed to authenticate");
  expect(signInStepOf(false, true)).toBe("failed to authenticate");
  expect(signInStepOf(true)).toBe("failed to get token");
  expect(signInStepOf(true, true)).toBe("failed to get token");
  expect(signInStepOf(false, false)).toBe("failed to get token");
  expect(signInStepOf(true, false)).toBe("failed to get token");
});

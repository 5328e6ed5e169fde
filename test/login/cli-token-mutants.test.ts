// timeFromParts in a time zone far from UTC, so "local" and "utc" give different instants and
// different days; the machine's zone is usually UTC, where the two cannot be told apart. Samoa
// (Pacific/Apia) is UTC+13 without daylight saving since 2021, and skipped December 30, 2011.
// Under vitest's forks each test file has a process of its own, and Node re-reads process.env.TZ
// when it is assigned; Stryker's runner uses worker threads, where that assignment changes
// nothing, so scripts/mutate.ts starts the whole run in this zone.
import { afterAll, beforeAll, expect, test } from "vitest";
import { timeFromParts } from "../../src/login/cli-token.js";

const SAMOA = "Pacific/Apia";
const parts = (text: string) => text.split(/[- :]/);

let zoneBefore: string | undefined;
beforeAll(() => {
  zoneBefore = process.env.TZ;
  process.env.TZ = SAMOA;
});
afterAll(() => {
  if (zoneBefore === undefined) delete process.env.TZ;
  else process.env.TZ = zoneBefore;
});

test("Date works in Samoa's zone here", () => {
  expect(new Date(2031, 4, 6).getTimezoneOffset()).toBe(-13 * 60);
});

test("a local time is 13 hours ahead of the same UTC time, and a day earlier in UTC", () => {
  expect(timeFromParts(parts("2031-05-06 07:08:09"), undefined, "local")).toBe(Date.UTC(2031, 4, 5, 18, 8, 9));
  expect(timeFromParts(parts("2031-05-06 07:08:09"), undefined, "utc")).toBe(Date.UTC(2031, 4, 6, 7, 8, 9));
});

test("a UTC time that is the next day locally is still the UTC date given", () => {
  expect(timeFromParts(parts("2031-05-06 18:00:00"), undefined, "utc")).toBe(Date.UTC(2031, 4, 6, 18));
  expect(timeFromParts(parts("2031-05-06 18:00:00"), "25", "local")).toBe(Date.UTC(2031, 4, 6, 5, 0, 0, 250));
});

test("a day the local zone skipped does not exist locally, but does in UTC", () => {
  expect(timeFromParts(parts("2011-12-30 12:00:00"), undefined, "local")).toBeUndefined();
  expect(timeFromParts(parts("2011-12-30 12:00:00"), undefined, "utc")).toBe(Date.UTC(2011, 11, 30, 12));
});

test("a year before 100 is refused: Date would read it as 1900 plus the year", () => {
  expect(timeFromParts(parts("0050-01-01 00:00:00"), undefined, "utc")).toBeUndefined();
  expect(timeFromParts(parts("0050-01-01 00:00:00"), undefined, "local")).toBeUndefined();
});

test("an hour past 23 is refused, on any day of the month", () => {
  for (const text of ["2031-05-06 24:00:00", "2031-05-31 24:00:00", "2031-12-31 99:00:00"]) {
    expect(timeFromParts(parts(text), undefined, "utc")).toBeUndefined();
    expect(timeFromParts(parts(text), undefined, "local")).toBeUndefined();
  }
});

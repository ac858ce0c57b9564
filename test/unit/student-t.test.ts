import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tCdf, tQuantile } from '../../src/core/student-t.js';
import { t95 } from '../../src/core/statistics.js';

const close = (a: number, b: number, tol = 1e-3): void =>
  assert.ok(Math.abs(a - b) < tol, `${a} is not ${b}`);

test('student t: quantiles match the printed tables, at 95% and far out in the tail', () => {
  close(tQuantile(0.975, 1), 12.706);
  close(tQuantile(0.975, 10), 2.228);
  close(tQuantile(0.995, 5), 4.032);
  close(tQuantile(0.9995, 20), 3.85);
  close(tQuantile(0.975, Infinity), 1.96);
});

test('student t: the quantile agrees with the t95 table capbench prints rmes with', () => {
  for (const df of [1, 2, 5, 9, 19, 29]) close(tQuantile(0.975, df), t95(df), 2e-3);
});

test('student t: the CDF is symmetric and the quantile inverts it', () => {
  close(tCdf(0, 7), 0.5, 1e-12);
  close(tCdf(-2, 7) + tCdf(2, 7), 1, 1e-12);
  close(tCdf(tQuantile(0.999, 13), 13), 0.999, 1e-9);
});

test('student t: a probability outside [0.5, 1) is a range error, not a wrong number', () => {
  assert.throws(() => tQuantile(0.4, 10), RangeError);
  assert.throws(() => tQuantile(1, 10), RangeError);
});

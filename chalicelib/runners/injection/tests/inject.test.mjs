// node --test chalicelib/runners/injection/tests/inject.test.mjs
import assert from 'node:assert/strict';
import test from 'node:test';

import { satisfies } from '../inject.mjs';

const CORE_PEER = '>=1.16.0-0 <2.0.0-0'; // @mastra/observability 1.17.9's peer range for @mastra/core

test('a core inside the pinned copy peer range fits', () => {
  for (const v of ['1.16.0', '1.71.0', '1.99.3', '1.16.0-alpha.1']) assert.equal(satisfies(v, CORE_PEER), true, v);
});

test('a core outside the peer range does not fit', () => {
  for (const v of ['1.15.9', '2.0.0', '0.9.0', 'not-a-version', undefined]) assert.equal(satisfies(v, CORE_PEER), false, String(v));
});

test('alternatives, exact versions and every comparator', () => {
  assert.equal(satisfies('3.1.0', '^2.0.0 || >=3.0.0'), true);
  assert.equal(satisfies('1.2.3', '1.2.3'), true);
  assert.equal(satisfies('1.2.3', '=1.2.4'), false);
  assert.equal(satisfies('1.2.3', '>1.2.2 <=1.2.3'), true);
  assert.equal(satisfies('1.2.3', '>1.2.3'), false);
});

test('syntax it does not read never fits (the build falls back to npm install)', () => {
  for (const range of ['^1.16.0', '~1.16.0', '1.x', '', undefined]) assert.equal(satisfies('1.17.0', range), false, String(range));
});

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMarked, wholeCharEnd, BoundedCapture } from '../../src/each/bounded-capture.js';
import { fillArgv, planArgv } from '../../src/each/build-argv.js';
import { formatDuration } from '../../src/engine/progress.js';
import { fillTemplate, MissingFieldError } from '../../src/each/fill-template.js';
import { parseHalt, shouldHalt } from '../../src/each/halt-policy.js';
import { hasPlaceholder, parseTemplate } from '../../src/each/parse-template.js';

const fill = (arg: string, record: unknown, number = 1, slot = 1): string => fillTemplate(parseTemplate(arg), { record, number, slot });

test('placeholders: whole record, fields, nested fields, number, slot, literal braces', () => {
  const record = { id: 7, name: 'a b', tags: ['x'], a: { b: { c: 'deep' } }, n: null };
  assert.is(fill('{}', record), JSON.stringify(record));
  assert.is(fill('{.name}', record), 'a b');
  assert.is(fill('{.id}', record), '7');
  assert.is(fill('{.tags}', record), '["x"]');
  assert.is(fill('{.a.b.c}', record), 'deep');
  assert.is(fill('{.tags.0}', record), 'x');
  assert.is(fill('{.n}', record), 'null');
  assert.is(fill('out/{.id}.mp4', record), 'out/7.mp4');
  assert.is(fill('{#}-{%}', record, 42, 3), '42-3');
  assert.is(fill('{{}}{{.id}}', record), '{}{.id}');
  assert.is(fill('plain', record), 'plain');
  assert.is(fill('', record), '');
});

test('a missing field fails, never an empty word', () => {
  assert.throws(() => fill('{.nope}', { id: 1 }), (error: Error) => error instanceof MissingFieldError && error.message === 'no field nope');
  assert.throws(() => fill('{.a.b}', { a: 'str' }), /no field a\.b/);
  assert.throws(() => fill('{.a}', 'not an object'), /no field a/);
  assert.throws(() => fill('{.toString}', {}), /no field toString/);
});

test('bad templates are usage errors', () => {
  assert.throws(() => parseTemplate('{x}'), /unknown placeholder \{x\}/);
  assert.throws(() => parseTemplate('a}b'), /lone \}/);
  assert.throws(() => parseTemplate('{.id'), /unclosed \{/);
  assert.throws(() => parseTemplate('{.a..b}'), /empty field name/);
  assert.ok(hasPlaceholder('x {.id}'));
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's ${1}, which is no placeholder of ours.
  assert.not.ok(hasPlaceholder('echo "${1}"'));
});

test('--shell: the script is never filled; the values follow it as positional parameters', () => {
  const plan = planArgv(['echo "$1"', '{.v}', '{#}'], true);
  assert.equal(fillArgv(plan, { record: { v: '$(x)' }, number: 5, slot: 1 }), ['sh', '-c', 'echo "$1"', 'op-each', '$(x)', '5']);
});

test('--halt: parsing and the GNU parallel thresholds', () => {
  assert.equal(parseHalt('now,fail=1'), { when: 'now', count: 1, percent: undefined });
  assert.equal(parseHalt('soon,fail=30%'), { when: 'soon', count: undefined, percent: 30 });
  for (const bad of ['now', 'later,fail=1', 'now,fail=0', 'soon,fail=0%', 'soon,fail=101%', 'now,success=1']) assert.throws(() => parseHalt(bad), /--halt takes/);
  const count = parseHalt('soon,fail=2');
  assert.not.ok(shouldHalt(count, 1, 10));
  assert.ok(shouldHalt(count, 2, 2));
  const percent = parseHalt('now,fail=50%');
  assert.not.ok(shouldHalt(percent, 2, 2), 'a percentage waits for 3 jobs');
  assert.ok(shouldHalt(percent, 2, 3));
  assert.not.ok(shouldHalt(percent, 1, 3));
});

test('captured bytes: cut at the limit on a character boundary, invalid UTF-8 replaced and marked', () => {
  const capture = new BoundedCapture(5);
  capture.push(Buffer.from('abcé', 'utf8'));
  capture.push(Buffer.from('more'));
  const text = capture.text();
  assert.equal(text, { text: 'abcé', truncated: true, invalidUtf8: false });
  assert.is(capture.total, 9);
  const cut = new BoundedCapture(4);
  cut.push(Buffer.from('abcé'));
  assert.equal(cut.text(), { text: 'abc', truncated: true, invalidUtf8: false }, 'no half character at the cut');
  assert.equal(decodeMarked(Buffer.from([0x61, 0xff, 0x62])), { text: 'a\ufffdb', truncated: false, invalidUtf8: true });
  assert.is(wholeCharEnd(Buffer.from('ab€', 'utf8').subarray(0, 4)), 2);
  assert.is(wholeCharEnd(Buffer.from('ab€', 'utf8')), 5);
});

test('ETA format', () => {
  assert.is(formatDuration(0.2), '0:01');
  assert.is(formatDuration(62), '1:02');
  assert.is(formatDuration(3725), '1:02:05');
});

test.run();

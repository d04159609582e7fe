import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { StateFeature } from '../../../src/components/contracts/state.js';
import { assertBytes, assertJson, type Cases, etagOf, textOf } from './cases.js';
import { saveItem, utf8 } from './harness.js';

const BULK_KEYS = 1000;
const MIB = 1024 * 1024;

/** JSON documents whose spacing, key order, escapes and number forms a store must keep. */
const JSON_VALUES: readonly string[] = [
  '{"b": 1, "a":[1, 2.50, "x"] , "nested":{"z":null,"y":false}}',
  '[3, 1, 2, {"k": "v"}]',
  '"line\\nbreak \\"quoted\\" tab\\t \\u00e9 \\/ slash"',
  '3.14159',
  '-0.5e-3',
  'true',
];

/** Bytes that are not UTF-8, bytes that look like JSON, every byte value, and nothing. */
const BINARY_VALUES: readonly Uint8Array[] = [
  Uint8Array.from({ length: 512 }, (_, i) => i % 256),
  Uint8Array.from([0xc3, 0x28, 0xff, 0xfe, 0x00, 0xed, 0xa0, 0x80]),
  utf8('{"looks":"like json"}'),
  new Uint8Array(0),
];

/** Keys and values in scripts a store must keep code point for code point. */
const UNICODE: readonly { readonly key: string; readonly text: string }[] = [
  { key: 'emoji-😀🚀', text: 'grinning 😀 rocket 🚀 family 👨‍👩‍👧 flag 🇯🇵' },
  { key: 'cjk-状态存储-キー-키', text: '状态管理 ステート管理 상태 관리' },
  { key: 'rtl-مفتاح-מפתח', text: 'مرحبا بالعالم — שלום עולם' },
  { key: 'combining-e\u0301-a\u030a', text: 'Cafe\u0301 A\u030angstro\u0308m' },
];

/**
 * Key pairs equal under MariaDB's utf8mb4_general_ci (case, accents, any two characters outside
 * the BMP, trailing spaces) but not as code points.
 */
const LOOKALIKE_KEYS: readonly (readonly [string, string])[] = [
  ['same-😀', 'same-😁'],
  ['Key-Case', 'key-case'],
  ['café', 'cafe'],
  ['padded', 'padded  '],
];

/** CRUD, bulk operations and value fidelity. */
export function registerDataCases(cases: Cases): void {
  const { entry } = cases;
  const hasETag = entry.features.includes(StateFeature.ETAG);

  cases.always('CRUD: save, get, overwrite, delete; a missing key reads as absent', async (run) => {
    const app = run.app('crud');
    assert.equal(await app.get('order-1'), undefined, 'a key never saved is absent');
    await app.saveJson('order-1', '{"item":"book","qty":1}');
    assertJson(entry, (await app.read('order-1')).data, '{"item":"book","qty":1}', 'saved');
    await app.saveJson('order-1', '{"item":"book","qty":2}');
    assertJson(entry, (await app.read('order-1')).data, '{"item":"book","qty":2}', 'overwritten');
    await app.delete('order-1');
    assert.equal(await app.get('order-1'), undefined, 'a deleted key is absent');
    await app.delete('order-1');
    assert.equal(await app.get('order-1'), undefined, 'deleting a missing key is no error');
  });

  cases.always('bulk: one save of several keys, bulk get in order, bulk delete', async (run) => {
    const app = run.app('bulk');
    await app.saveMany([
      saveItem('b1', '{"n":1}'),
      saveItem('b2', '{"n":2}'),
      saveItem('b3', utf8('raw bytes')),
    ]);
    const got = await app.bulkGet(['b2', 'missing', 'b1', 'b3']);
    assert.deepEqual(
      got.map((item) => item.key),
      ['b2', 'missing', 'b1', 'b3'],
      'results carry the app keys, in request order',
    );
    const [b2, missing, b1, b3] = got;
    assertJson(entry, b2?.data, '{"n":2}', 'b2');
    assertJson(entry, b1?.data, '{"n":1}', 'b1');
    assert.equal(textOf(b3?.data), 'raw bytes');
    assert.equal(missing?.data, undefined, 'a missing key has no data');
    assert.equal(missing?.error, undefined, 'a missing key is not an error');
    if (hasETag) {
      assert.equal(b1?.etag, (await app.read('b1')).etag, 'bulk get returns the stored ETag');
    }
    const twice = await app.bulkGet(['b1', 'b1']);
    assert.equal(twice.length, 2, 'a key asked twice is answered twice');
    for (const item of twice) assertJson(entry, item.data, '{"n":1}', 'b1 asked twice');
    await app.saveMany([saveItem('dup', '"first"'), saveItem('dup', '"last"')]);
    assert.equal(textOf((await app.read('dup')).data), '"last"', 'the last save of a key wins');
    await app.bulkDelete(['b1', 'b2', 'never-saved']);
    const after = await app.bulkGet(['b1', 'b2', 'b3']);
    assert.deepEqual(
      after.map((item) => item.data !== undefined),
      [false, false, true],
      'bulk delete removed exactly the keys it named',
    );
  });

  cases.always(`bulk: ${BULK_KEYS} keys saved, read and deleted in one call each`, async (run) => {
    const app = run.app('bulk-1000');
    const keys = Array.from({ length: BULK_KEYS }, (_, i) => `key-${i}`);
    const json = (i: number): string => `{"i":${i},"pad":"${'x'.repeat(32)}"}`;
    await app.saveMany(keys.map((key, i) => saveItem(key, json(i))));
    const got = await app.bulkGet(keys);
    assert.equal(got.length, BULK_KEYS);
    got.forEach((item, i) => {
      assert.equal(item.key, keys[i]);
      assert.equal(item.error, undefined, `key-${i}: ${item.error}`);
      assertJson(entry, item.data, json(i), `key-${i}`);
    });
    await app.bulkDelete(keys);
    const after = await app.bulkGet(keys);
    const left = after.filter((item) => item.data !== undefined).map((item) => item.key);
    assert.deepEqual(left, [], 'every key is gone after the bulk delete');
  });

  cases.always(
    `values: JSON text ${entry.json === 'exact' ? 'byte-exact' : 'as equal JSON'}`,
    async (run) => {
      const app = run.app('json');
      await app.saveMany(JSON_VALUES.map((json, i) => saveItem(`json-${i}`, json)));
      for (const [i, json] of JSON_VALUES.entries()) {
        assertJson(entry, (await app.read(`json-${i}`)).data, json, `json-${i} (get)`);
      }
      const bulk = await app.bulkGet(JSON_VALUES.map((_, i) => `json-${i}`));
      bulk.forEach((item, i) => {
        assertJson(entry, item.data, JSON_VALUES[i] ?? '', `json-${i} (bulk get)`);
      });
    },
  );

  cases.always(
    'values: binary bytes byte-exact (invalid UTF-8, all byte values, empty)',
    async (run) => {
      const app = run.app('binary');
      for (const [i, bytes] of BINARY_VALUES.entries()) await app.saveBytes(`bin-${i}`, bytes);
      for (const [i, bytes] of BINARY_VALUES.entries()) {
        assertBytes((await app.read(`bin-${i}`)).data, bytes, `bin-${i} (get)`);
      }
      const bulk = await app.bulkGet(BINARY_VALUES.map((_, i) => `bin-${i}`));
      bulk.forEach((item, i) => {
        assertBytes(item.data, BINARY_VALUES[i] ?? new Uint8Array(), `bin-${i} (bulk get)`);
      });
    },
  );

  cases.always('unicode: emoji, CJK, RTL and combining marks in keys and values', async (run) => {
    const app = run.app('unicode');
    for (const { key, text } of UNICODE) {
      await app.saveJson(key, JSON.stringify({ text, key }));
      await app.saveBytes(`${key}-bin`, utf8(text));
    }
    for (const { key, text } of UNICODE) {
      assertJson(entry, (await app.read(key)).data, JSON.stringify({ text, key }), key);
      assert.equal(textOf((await app.read(`${key}-bin`)).data), text, `${key}-bin`);
    }
    const keys = UNICODE.flatMap(({ key }) => [key, `${key}-bin`]);
    const bulk = await app.bulkGet(keys);
    assert.deepEqual(
      bulk.map((item) => item.key),
      keys,
      'bulk get returns each key code point for code point',
    );
    assert.ok(bulk.every((item) => item.data !== undefined));
    // The composed form of a key saved decomposed is another key: nothing normalizes keys.
    assert.equal(await app.get('combining-\u00e9-\u00e5'), undefined);
  });

  const collapses = entry.keys === 'mariadb-general-ci';
  cases.always(
    collapses
      ? 'keys: keys equal under utf8mb4_general_ci share one row, as in Dapr on MariaDB'
      : 'keys: keys differing only in case, accents, emoji or trailing spaces stay distinct',
    async (run) => {
      const app = run.app('lookalike');
      for (const [first, second] of LOOKALIKE_KEYS) {
        await app.saveJson(first, '"first"');
        await app.saveJson(second, '"second"');
        const expected = collapses ? '"second"' : '"first"';
        assert.equal(textOf((await app.read(first)).data), expected, `${first} vs ${second}`);
        assert.equal(textOf((await app.read(second)).data), '"second"', second);
      }
    },
  );

  cases.always('values: 1 MiB JSON and 1 MiB binary values', async (run) => {
    const app = run.app('large');
    const json = `{"blob":"${'a'.repeat(MIB - 13)}é"}`;
    assert.equal(Buffer.byteLength(json), MIB);
    const bytes = randomBytes(MIB);
    await app.saveJson('large-json', json);
    await app.saveBytes('large-bin', bytes);
    assertJson(entry, (await app.read('large-json')).data, json, 'large-json');
    assertBytes((await app.read('large-bin')).data, bytes, 'large-bin');
    const [bulkJson, bulkBin] = await app.bulkGet(['large-json', 'large-bin']);
    assertJson(entry, bulkJson?.data, json, 'large-json (bulk get)');
    assertBytes(bulkBin?.data, bytes, 'large-bin (bulk get)');
    if (hasETag) etagOf(await app.read('large-bin'), 'large-bin');
  });
}

/**
 * Fuzzing the v1 body parser (a 402 with a JSON body and no PAYMENT-REQUIRED header): raw
 * bytes, random JSON, structure-aware mutations of valid challenges (judged by an independent
 * oracle of the schema) and text-level attacks. Most cases go through the synchronous core
 * (`interpretChallenge`); a share through `readChallenge` with a real Response body.
 * 0 crashes, 0 untyped errors, every accepted challenge within its invariants.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { challengeIsValid, mutatedChallenge, textAttack, validChallenge, wire } from './arbitraries.js';
import { parse, parseParts, utf8 } from './challengeParsers.shared.js';
import { useFuzzStats } from './fuzzStats.js';

const stats = useFuzzStats('v1 body parser');
const response = (body: BodyInit) => new Response(body, { status: 402, headers: { 'content-type': 'application/json' } });

describe('v1 body parser', { timeout: 120_000 }, () => {
  it('raw bytes: never crashes, never accepts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        stats.count();
        if (parseParts(null, bytes).ok) throw new Error('accepted random bytes');
      }),
      stats.params(8_000),
    );
  });

  it('random JSON values: never crashes; accepted only when the oracle says valid', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        stats.count();
        const result = parseParts(null, utf8(JSON.stringify(value)));
        if (result.ok && !challengeIsValid(1, value) && !challengeIsValid(2, value)) throw new Error('accepted an invalid challenge');
      }),
      stats.params(8_000),
    );
  });

  it('valid challenges are accepted as they are', () => {
    fc.assert(
      fc.property(validChallenge(1), (value) => {
        stats.count();
        const result = parseParts(null, utf8(JSON.stringify(value)));
        if (!result.ok) throw new Error(`refused a valid challenge: ${result.reason}`);
        if (result.challenge.options.length !== (value['accepts'] as unknown[]).length) throw new Error('lost an option');
      }),
      stats.params(3_000),
    );
  });

  it('one field replaced by a hostile value: accepted exactly when the oracle says valid', () => {
    fc.assert(
      fc.property(mutatedChallenge(1), ({ value, where }) => {
        stats.count();
        const result = parseParts(null, utf8(JSON.stringify(value)));
        const valid = challengeIsValid(1, wire(value));
        if (result.ok !== valid) throw new Error(`${where}: parser says ${result.ok ? 'valid' : 'invalid'}, oracle ${valid ? 'valid' : 'invalid'}`);
      }),
      stats.params(14_000),
    );
  });

  it('duplicate keys, __proto__ keys, deep nesting and truncation are always refused', () => {
    fc.assert(
      fc.property(textAttack(1), ({ text, attack }) => {
        stats.count();
        const result = parseParts(null, utf8(text));
        if (result.ok) throw new Error(`accepted a ${attack} attack`);
        if (attack === 'duplicate' && result.reason !== 'ambiguous') throw new Error('a duplicate key must be ambiguous');
      }),
      stats.params(4_000),
    );
  });

  it('through readChallenge with a streamed Response body: mutated challenges and raw bytes', async () => {
    const input = fc.oneof(
      mutatedChallenge(1).map(({ value }) => ({ text: JSON.stringify(value), valid: challengeIsValid(1, wire(value)) as boolean | undefined })),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ text: Buffer.from(bytes).toString('latin1'), valid: undefined })),
    );
    await fc.assert(
      fc.asyncProperty(input, async ({ text, valid }) => {
        stats.count();
        const result = await parse(response(text));
        if (valid !== undefined && result.ok !== valid) throw new Error(`readChallenge says ${result.ok}, oracle ${valid}`);
      }),
      stats.params(3_000),
    );
  });
});

/**
 * The mutation-run reporter that makes an unloadable test file count as a failed test. The
 * files are shaped as vitest's state holds them after a run; the fields checked are the ones
 * Stryker's vitest runner reads of a test (type, name, mode, file, result).
 */
import { describe, expect, it } from 'vitest';
import type { Vitest } from 'vitest/node';
import LoadFailureReporter from '../support/loadFailureReporter.js';

type FakeFile = { id: string; name: string; filepath: string; result?: { state: string; errors?: { message: string }[] }; tasks: Record<string, unknown>[] };

function runEnd(files: FakeFile[]): void {
  const reporter = new LoadFailureReporter();
  reporter.onInit({ state: { getFiles: () => files } } as unknown as Vitest);
  reporter.onTestRunEnd();
}

describe('LoadFailureReporter', () => {
  it('gives a file that failed with no tests one failed test carrying the load error', () => {
    const broken: FakeFile = { id: 'f1', name: 'test/unit/codec.test.ts', filepath: '/x/test/unit/codec.test.ts', result: { state: 'fail', errors: [{ message: 'The "" encoding is not supported' }] }, tasks: [] };
    runEnd([broken]);
    expect(broken.tasks).toHaveLength(1);
    const [test] = broken.tasks;
    expect(test).toMatchObject({ type: 'test', mode: 'run', name: 'the test file loads', file: broken, result: { state: 'fail', errors: [{ message: 'The "" encoding is not supported' }] } });
  });

  it('says the file failed to load when vitest recorded no error', () => {
    const broken: FakeFile = { id: 'f2', name: 'a.test.ts', filepath: '/x/a.test.ts', result: { state: 'fail' }, tasks: [] };
    runEnd([broken]);
    expect(broken.tasks[0]).toMatchObject({ result: { state: 'fail', errors: [{ message: 'the test file failed to load' }] } });
  });

  it('leaves alone a file that passed, a file whose tests failed, and a file not run', () => {
    const failedTest = { type: 'test', name: 't', result: { state: 'fail' } };
    const files: FakeFile[] = [
      { id: 'p', name: 'p.test.ts', filepath: '/x/p.test.ts', result: { state: 'pass' }, tasks: [{ type: 'test', name: 't', result: { state: 'pass' } }] },
      { id: 'f', name: 'f.test.ts', filepath: '/x/f.test.ts', result: { state: 'fail' }, tasks: [failedTest] },
      { id: 's', name: 's.test.ts', filepath: '/x/s.test.ts', tasks: [] },
    ];
    const before = structuredClone(files);
    runEnd(files);
    expect(files).toEqual(before);
  });

  it('does nothing before vitest has handed it its state', () => {
    expect(() => new LoadFailureReporter().onTestRunEnd()).not.toThrow();
  });
});

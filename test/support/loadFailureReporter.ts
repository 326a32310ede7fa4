import type { Reporter, Vitest } from 'vitest/node';

/**
 * For mutation runs only (`vitest.mutation.config.ts`): makes a test file that failed to load
 * count as a failed test.
 *
 * Stryker's vitest runner (9.6.1, and 10.0.0 as reported upstream, stryker-js#6150) builds a
 * mutant's result from the tests it collected. A module-level mutant that makes an import throw
 * (say `new TextDecoder('')` in codec.ts) leaves every file that imports it with no tests, so
 * the runner sees no failure and scores the mutant as survived, although the suite cannot even
 * load. At the end of each run this reporter gives every such file one failed test, carrying the
 * load error; files that loaded are left as they are.
 */
export default class LoadFailureReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(): void {
    for (const file of this.vitest?.state.getFiles() ?? []) {
      if (file.result?.state !== 'fail' || file.tasks.length > 0) continue;
      const errors = file.result.errors ?? [{ message: 'the test file failed to load' }];
      // The fields Stryker's runner reads of a test (type, name, mode, file, suite, result);
      // vitest's own test objects carry more, which nothing reads after the run.
      const loadFailure = { type: 'test', id: `${file.id}_load`, name: 'the test file loads', mode: 'run', file, suite: file, meta: {}, result: { state: 'fail', errors } };
      file.tasks.push(loadFailure as unknown as (typeof file.tasks)[number]);
    }
  }
}

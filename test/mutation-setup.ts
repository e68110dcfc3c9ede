// Set-up of the mutation-testing runs (vitest.mutation.config.ts): fast-check draws the same
// cases on every run, so a test that kills a mutant kills it every time, and a survivor is
// not killed by a lucky draw. The seed is arbitrary; `npm test` keeps random seeds.
import fc from 'fast-check';

fc.configureGlobal({ seed: 20_261_207 });

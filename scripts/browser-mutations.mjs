// `npm run test:mutation:browser`: applies the hand-written slips of
// test/mutations/browser-mutations.mjs to a scratch copy of the tree one at a time, runs the
// browser tests that guard each, and prints which were caught. Exits 1 when one survives that
// is not marked equivalent. The engine: test/mutations/mutation-runner.mjs.
//   --only <id>   run one mutation (repeatable); the report in docs/ is then left as it is
//   --list        list the mutations and check that each still applies
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mutations } from '../test/mutations/browser-mutations.mjs';
import { checkList, runMutations } from '../test/mutations/mutation-runner.mjs';
import { ensureChromium, root } from './bootstrap.mjs';

const { values } = parseArgs({ options: { only: { type: 'string', multiple: true, default: [] }, list: { type: 'boolean', default: false } } });

if (values.list) {
  for (const m of mutations) console.log(`${m.id}\n  ${m.file}: ${m.why}\n  tests: ${m.tests.join(' ')}${m.equivalent ? `\n  equivalent: ${m.equivalent}` : ''}`);
  const problems = checkList(mutations, root);
  if (problems.length > 0) console.error(`\nThe list no longer applies:\n  ${problems.join('\n  ')}`);
  process.exit(problems.length > 0 ? 2 : 0);
}

const command = ['npm run test:mutation:browser', ...(values.only.length > 0 ? ['--', ...values.only.flatMap((id) => ['--only', id])] : [])].join(' ');
try {
  process.exitCode = await runMutations({
    root,
    mutations,
    only: values.only,
    chrome: ensureChromium(),
    command,
    reportPath: values.only.length > 0 ? undefined : join(root, 'docs', 'browser-mutations.md'),
  });
} catch (error) {
  console.error(`\nbrowser mutations: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}

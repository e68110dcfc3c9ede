// The demo page (index.html) is the site's front page: it links every example and the benchmark.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

test('the demo page links every folder of examples/ and the benchmark page', () => {
  const page = readFileSync(join(root, 'index.html'), 'utf8');
  const examples = readdirSync(join(root, 'examples'), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  expect(examples.length).toBeGreaterThan(0);
  for (const example of examples) expect(page, example).toContain(`href="examples/${example}/"`);
  expect(page).toContain('href="bench.html"');
});

// The README's JavaScript section as a new user meets it: pack the package (npm pack),
// install the tarball into a fresh Node project (npm install ./pagedb-<version>.tgz), and
// run every ```js block of the section exactly as written. A block introduced by a
// sentence saying "it prints `A` and `B`" must print exactly those lines.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** The ```js blocks of README.md's JavaScript section, with the text before each. */
function blocks(): { code: string; before: string }[] {
  const md = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = md.indexOf('## Using it from JavaScript');
  const end = md.indexOf('\n## ', start + 10);
  const section = md.slice(start, end < 0 ? undefined : end);
  const out: { code: string; before: string }[] = [];
  const re = /```js\n([\s\S]*?)```/g;
  let m: RegExpExecArray | null, last = 0;
  while ((m = re.exec(section))) {
    out.push({ code: m[1], before: section.slice(last, m.index) });
    last = m.index + m[0].length;
  }
  return out;
}

describe('README JavaScript section', () => {
  it('installs from the packed tarball and runs every ```js block as written', () => {
    const found = blocks();
    expect(found.length).toBeGreaterThan(0);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pagedb-readme-'));
    const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
    const app = path.join(work, 'my-app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), '{ "name": "my-app", "private": true, "type": "module" }\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline', path.join(work, tgz)], { cwd: app, stdio: 'pipe' });
    let checked = 0;
    found.forEach((b, i) => {
      const file = path.join(app, `readme-${i}.mjs`);
      fs.writeFileSync(file, b.code);
      const stdout = execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8', timeout: 60_000 });
      const said = /it prints ((?:`[^`]*`(?:,? and |, )?)+)/.exec(b.before.trimEnd().split('\n\n').pop() ?? '');
      if (said) {
        const want = [...said[1].matchAll(/`([^`]*)`/g)].map((x) => x[1]);
        expect(stdout.trimEnd().split('\n'), `block ${i} output`).toEqual(want);
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(0); // the first program's output is stated and checked
    fs.rmSync(work, { recursive: true, force: true });
  }, 120_000);
});

// Rebuilds static/vendor/: the browser softphone's JsSIP as one minified ES module
// (jssip.mjs, which the UI imports from /vendor/jssip.mjs) and the licence notices of every
// package bundled into it (jssip.LICENSE.txt). Both are committed, so that building and
// running switchboard needs no npm; run this (`npm run vendor`) after changing JsSIP's
// version in package.json and `npm install`. The output is byte-for-byte reproducible.
import { build } from 'esbuild';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const out = 'static/vendor/jssip.mjs';
const { metafile } = await build({
  entryPoints: ['node_modules/jssip/lib-es5/JsSIP.js'],
  bundle: true,
  format: 'esm',
  minify: true,
  logLevel: 'warning',
  metafile: true,
  outfile: out,
});

// Every npm package whose code is in the bundle (the input paths run through
// node_modules, resolved through symlinks), with its licence file as published.
const dirs = new Map();
for (const input of Object.keys(metafile.inputs)) {
  const m = input.match(/^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//);
  if (m) dirs.set(m[2], m[1]);
}
const packages = [...dirs.keys()].sort();
const notices = packages.map((name) => {
  const dir = dirs.get(name);
  const { version, license } = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  if (!file) throw new Error(`${name} has no licence file to copy`);
  return `${name} ${version} (${license}), node_modules/${name}/${file}:\n\n${readFileSync(`${dir}/${file}`, 'utf8').trim()}\n`;
});
const jssip = JSON.parse(readFileSync('node_modules/jssip/package.json', 'utf8')).version;
writeFileSync(
  'static/vendor/jssip.LICENSE.txt',
  `${out} is JsSIP ${jssip} and the packages it imports, bundled into one file by \`npm run vendor\` (tools/vendor.mjs). Their licences:\n\n` +
    notices.join(`\n${'-'.repeat(72)}\n\n`),
);
console.log(`${out}: ${packages.join(', ')}`);

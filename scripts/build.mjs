// npm run build: nest build of the three apps into dist/, and a stamp of what they were built from.
//   node scripts/build.mjs               build
//   node scripts/build.mjs --if-changed  build only when sources, configuration or package-lock.json changed (npm start does this)
//   node scripts/build.mjs --check       exit 0 when dist is up to date, 1 (saying why) when a build is needed
import { build, buildIfChanged, staleness } from './lib/build.mjs';
import { ROOT } from './lib/processes.mjs';

const say = (line) => process.stderr.write(`[build]    ${line}\n`);
const mode = process.argv[2];

try {
  if (mode === '--check') {
    const why = staleness(ROOT);
    say(why ? `a build is needed: ${why}` : 'up to date');
    process.exit(why ? 1 : 0);
  } else if (mode === '--if-changed') {
    await buildIfChanged(ROOT, { onLog: say });
  } else if (mode === undefined) {
    await build(ROOT, { onLog: say });
  } else {
    say(`unknown option ${mode} (--if-changed, --check)`);
    process.exit(2);
  }
} catch (e) {
  say(e?.message ?? String(e));
  process.exit(1);
}

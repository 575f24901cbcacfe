// Validate APL documents with Amazon's apl-suggester (npm), for tests/test_apl.py.
// Usage: node tests/apl_suggester.js doc.json [...]  ->  one JSON line on stdout:
// {"<path>": [{"path": ..., "errorMessage": ..., "level": ...}, ...], ...}
// The library logs notes ("No mixin for component ...") with console.log; they go to
// stderr so that stdout stays one JSON line.
const fs = require('fs');
const out = process.stdout.write.bind(process.stdout);
console.log = (...args) => console.error(...args);
const { StaticAplTemplateValidator } = require('apl-suggester');

(async () => {
  const validator = new StaticAplTemplateValidator();
  const results = {};
  for (const path of process.argv.slice(2)) {
    results[path] = await validator.validate(JSON.parse(fs.readFileSync(path, 'utf8')));
  }
  out(JSON.stringify(results) + '\n');
})().catch((error) => { console.error(error); process.exit(2); });

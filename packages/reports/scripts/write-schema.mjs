// Writes dist/results.schema.json from the one definition (src/schema.ts, compiled): the shipped
// JSON Schema cannot drift from the runtime check. A spec compares the two.
import { writeFileSync } from 'node:fs';
import { RESULTS_JSON_SCHEMA } from '../dist/schema.js';

writeFileSync(new URL('../dist/results.schema.json', import.meta.url), `${JSON.stringify(RESULTS_JSON_SCHEMA, null, 2)}\n`);

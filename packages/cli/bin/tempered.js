#!/usr/bin/env node
// Committed entry point so `npm ci` can link the `tempered` command before anything is built;
// the command itself is the compiled dist/bin.js.
try {
  await import('../dist/bin.js');
} catch (error) {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    process.stderr.write('error: tempered is not built yet; run `npm run build` first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
}

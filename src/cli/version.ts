import { createRequire } from 'node:module';

/** The package version, read from package.json (three levels up from build/src/cli). */
export function packageVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = require('../../../package.json') as { version: string };
  return pkg.version;
}

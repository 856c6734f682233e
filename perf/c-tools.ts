// Where the C measuring tools are: `refecho` (an epoll echo server) and `loadgen` (a
// byte-verifying load generator). They are not part of this repository; a directory holding the
// built binaries is named by --c-bench DIR or, failing that, by the TCPECHO_C_BENCH variable.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export const C_BENCH_VARIABLE = 'TCPECHO_C_BENCH';

export type CTool = 'refecho' | 'loadgen';

/** Where each tool is, or, for one that cannot be used, one line saying why. */
export interface CTools {
  dir: string | undefined;
  path: Partial<Record<CTool, string>>;
  missing: Partial<Record<CTool, string>>;
}

/** The tools in `dir` (the option's value), else in $TCPECHO_C_BENCH; each found only if executable. */
export function findCTools(dir: string | undefined = process.env[C_BENCH_VARIABLE] || undefined): CTools {
  const tools: CTools = { dir, path: {}, missing: {} };
  for (const tool of ['refecho', 'loadgen'] as const) {
    if (dir === undefined) {
      tools.missing[tool] = `${tool}: no C tools directory (set ${C_BENCH_VARIABLE}=DIR or pass --c-bench DIR, DIR holding the built refecho and loadgen)`;
      continue;
    }
    const path = join(dir, tool);
    try {
      accessSync(path, constants.X_OK);
      tools.path[tool] = path;
    } catch {
      tools.missing[tool] = `${tool}: ${path} is not there or not executable (build it: make -C ${dir})`;
    }
  }
  return tools;
}

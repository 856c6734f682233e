// Kubernetes manifests for tests: read (every YAML document of every file under a directory) and
// checked against the Kubernetes API's OpenAPI schemas as `kubernetes-models` ships them (one
// compiled JSON-schema validator per type, Kubernetes 1.33's API), strictly: a field the schema
// does not know is an error too, as the API server's strict field validation (kubectl's default)
// makes it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';

/** The kinds the manifests may hold, by `apiVersion kind`; any other is a problem (so that no document goes unchecked). */
const MODELS: Record<string, { prototype: { validate(): void } }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'batch/v1 Job': Job,
};

export interface ManifestDocument {
  /** The file, relative to the directory read. */
  file: string;
  /** Its position in the file, from 0. */
  index: number;
  /** The document as plain data. */
  data: Record<string, unknown>;
}

/** Every `.yaml`/`.yml` file under `dir`, subdirectories too, sorted. */
export function manifestFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(dir, name))
    .sort();
}

/**
 * Every non-empty document of every manifest file under `dir`. A YAML error or warning (a
 * duplicate key among them) throws, naming the file.
 */
export function readManifests(dir: string): ManifestDocument[] {
  const out: ManifestDocument[] = [];
  for (const path of manifestFiles(dir)) {
    const file = relative(dir, path);
    parseAllDocuments(readFileSync(path, 'utf8')).forEach((doc, index) => {
      const trouble = [...doc.errors, ...doc.warnings];
      if (trouble.length > 0) throw new Error(`${file}: ${trouble.map((e) => e.message).join('; ')}`);
      const data: unknown = doc.toJS();
      if (data === null || data === undefined) return;
      if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`${file} document ${index}: not a mapping`);
      out.push({ file, index, data: data as Record<string, unknown> });
    });
  }
  return out;
}

/**
 * What is wrong with `data` as a Kubernetes object: an `apiVersion`/`kind` not in MODELS, the
 * schema's complaints (types, enums, required fields, formats), and fields the schema does not
 * have, as `/spec/replica: unknown field`. Empty when it is valid.
 *
 * The unknown fields: the compiled validators read each property their schema declares (and
 * every key of a map-typed one), never any other; so the document is validated through a proxy
 * that records every property read, and a key never read is one the schema does not know.
 */
export function manifestProblems(data: Record<string, unknown>): string[] {
  const type = `${String(data.apiVersion)} ${String(data.kind)}`;
  const model = MODELS[type];
  if (model === undefined) return [`${type}: not a kind these manifests are checked for (${Object.keys(MODELS).join(', ')})`];
  const read = new Set<string>();
  const track = (value: unknown, path: string): unknown =>
    value === null || typeof value !== 'object'
      ? value
      : new Proxy(value, {
          get(target, key, receiver) {
            const child = Reflect.get(target, key, receiver) as unknown;
            if (typeof key !== 'string') return child;
            read.add(`${path}/${key}`);
            return track(child, `${path}/${key}`);
          },
        });
  const problems: string[] = [];
  try {
    model.prototype.validate.call(track(data, ''));
  } catch (err) {
    problems.push(`${type}: ${(err as Error).message}`);
  }
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      const at = `${path}/${key}`;
      // Only the outermost unknown field: what is under it is unknown with it.
      if (!Array.isArray(value) && !read.has(at)) problems.push(`${at}: unknown field`);
      else walk(child, at);
    }
  };
  walk(data, '');
  return problems;
}

// Moved: the value parsers now live in options/values.ts (re-exported until every import is updated).
export * from './options/values.js';

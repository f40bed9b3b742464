export type { JsonFile } from '../store/json-file.js';
export { jsonFile } from '../store/json-file.js';

export { WARDEN_VERSION as serverVersion } from '../../version.js';

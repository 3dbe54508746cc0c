// The running version of Kluis (from package.json), reported by /api/health and the OpenAPI document.
import packageJson from '../../package.json' with { type: 'json' };

export const KLUIS_VERSION: string = packageJson.version;

// Which request paths belong to the JSON API (everything else is the web client).
export const API_PREFIX = '/api';

export function isApiPath(path: string): boolean {
  return path === API_PREFIX || path.startsWith(`${API_PREFIX}/`);
}

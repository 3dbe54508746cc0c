// The return path after sign-in: only paths inside /app, never another origin.
import { describe, expect, it } from 'vitest';
import { loginPathFor, returnPath } from './return-path';

describe('returnPath', () => {
  it('accepts paths of the signed-in area', () => {
    expect(returnPath('/app/spaces/AAAAAAAAAAAAAAAAAAAAAA')).toBe(
      '/app/spaces/AAAAAAAAAAAAAAAAAAAAAA',
    );
    expect(returnPath('/app/spaces/abc_-1/messages')).toBe('/app/spaces/abc_-1/messages');
    expect(returnPath('/app')).toBe('/app');
  });

  it('refuses anything else', () => {
    for (const next of [
      null,
      '',
      '//evil.example',
      'https://evil.example/app',
      '/app//evil.example',
      '/app/\\evil',
      '/application',
      '/app/x?y=1',
      '/app/../login',
      '/login',
    ]) {
      expect(returnPath(next), String(next)).toBe('/app');
    }
  });
});

describe('loginPathFor', () => {
  it('carries the path, except for the start page', () => {
    expect(loginPathFor('/app/spaces/x')).toBe('/login?next=%2Fapp%2Fspaces%2Fx');
    expect(loginPathFor('/app/')).toBe('/login');
  });
});

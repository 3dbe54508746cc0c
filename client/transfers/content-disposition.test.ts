// Content-Disposition of downloads: Unicode names survive, nothing in a name can break the header.
import { describe, expect, it } from 'vitest';
import { contentDisposition } from './content-disposition';

/** The RFC 8187 value decoded back, as a browser does. */
function extendedName(header: string): string {
  const match = /filename\*=UTF-8''([!#$&+\-.^_`|~0-9A-Za-z%]+)$/.exec(header);
  if (!match?.[1]) throw new Error(`no RFC 8187 filename* in ${header}`);
  return decodeURIComponent(match[1]);
}

describe('contentDisposition', () => {
  it('keeps a Unicode name exactly, with an ASCII fallback', () => {
    const header = contentDisposition('Jaarrekening 2024 — définitief (v2) 🔐.pdf');
    expect(header.startsWith('attachment; filename="Jaarrekening 2024 _ d_finitief (v2) __.pdf"; ')).toBe(true);
    expect(extendedName(header)).toBe('Jaarrekening 2024 — définitief (v2) 🔐.pdf');
  });

  it('cannot be used to inject a header or a path', () => {
    const header = contentDisposition('a"\r\nSet-Cookie: x=1; \\..\\../etc/passwd%00.txt');
    expect([...header].every((c) => c >= ' ' && c <= '~')).toBe(true);
    expect(new Headers({ 'Content-Disposition': header }).get('content-disposition')).toBe(header);
    const fallback = /filename="([^"]*)"/.exec(header)?.[1];
    expect(fallback).toBe('a___Set-Cookie: x=1; _.._.._etc_passwd_00.txt');
    expect(extendedName(header)).toBe('a"__Set-Cookie: x=1; _.._.._etc_passwd%00.txt');
  });

  it('survives empty names and lone surrogates', () => {
    expect(extendedName(contentDisposition('  '))).toBe('download');
    expect(extendedName(contentDisposition('x\ud800y.txt'))).toBe('x\ufffdy.txt');
  });
});

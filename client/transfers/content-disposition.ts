// The Content-Disposition of a streamed download: RFC 6266 with an RFC 8187 (formerly 5987) UTF-8 file name.

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Controls (C0, DEL, C1) and path separators never reach a file name.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f/\\]/g;

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`.
 * WARNING: the name is the decrypted file name, chosen by whoever uploaded it: nothing in it may end
 * the header or add another (CR, LF and every other control are replaced), the quoted fallback holds
 * only printable ASCII without `"` and `\`, and the extended value only RFC 8187 attr-chars.
 */
export function contentDisposition(name: string): string {
  const clean = name.replace(LONE_SURROGATE, '\ufffd').replace(UNSAFE, '_').trim() || 'download';
  const fallback = clean.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  // encodeURIComponent leaves ' ( ) * unescaped, which RFC 8187 attr-char does not allow.
  const encoded = encodeURIComponent(clean).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

// A key fingerprint (SHA-256, hex) in groups of four characters, easy to compare aloud.
export function groupFingerprint(hex: string): string {
  return (hex.match(/.{1,4}/g) ?? []).join(' ');
}

export function Fingerprint({ hex, label }: { hex: string; label?: string }) {
  return (
    <code className="fingerprint" aria-label={label}>
      {groupFingerprint(hex)}
    </code>
  );
}

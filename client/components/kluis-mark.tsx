// The Kluis logo mark (a safe door), decorative: the brand name next to it carries the meaning.
export function KluisMark() {
  return (
    <svg
      className="brand-mark"
      viewBox="0 0 32 32"
      width="32"
      height="32"
      aria-hidden="true"
      focusable="false"
    >
      <rect x="3" y="4" width="26" height="24" rx="5" fill="currentColor" />
      <circle cx="16" cy="16" r="7" fill="none" stroke="#ffffff" strokeWidth="2.5" />
      <path
        d="M16 12.5v3.5l2.5 2"
        fill="none"
        stroke="#ffffff"
        strokeWidth="2.5"
        strokeLinecap="round"
      />
      <rect x="7" y="27" width="4" height="3" rx="1" fill="currentColor" />
      <rect x="21" y="27" width="4" height="3" rx="1" fill="currentColor" />
    </svg>
  );
}

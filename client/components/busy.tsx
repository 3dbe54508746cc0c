// A loading indicator with its meaning in text, announced politely to screen readers.
export function Busy({ label }: { label: string }) {
  return (
    <p className="busy" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </p>
  );
}

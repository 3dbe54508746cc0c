// The QR code of an authenticator set-up, drawn as SVG rectangles in React (no innerHTML, no image service).
import { useMemo } from 'react';
import { qrDrawing } from './qr';

export interface QrCodeProps {
  /** The otpauth:// URI. WARNING: it holds the TOTP key; it is drawn here and sent nowhere. */
  readonly value: string;
  /** What the image is, for screen readers (the key is also shown as text beside it). */
  readonly label: string;
}

export function QrCode({ value, label }: QrCodeProps) {
  const drawing = useMemo(() => qrDrawing(value), [value]);
  return (
    <svg
      className="qr-code"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${drawing.size} ${drawing.size}`}
      shapeRendering="crispEdges"
      xmlns="http://www.w3.org/2000/svg"
    >
      {/* Always dark on white, whatever the page's colours: readers expect that contrast. */}
      <rect width={drawing.size} height={drawing.size} fill="#ffffff" />
      {drawing.runs.map((run) => (
        <rect
          key={`${run.x},${run.y}`}
          x={run.x}
          y={run.y}
          width={run.width}
          height={1}
          fill="#000000"
        />
      ))}
    </svg>
  );
}

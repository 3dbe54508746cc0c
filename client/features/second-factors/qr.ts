// A QR code as rectangles for an SVG, computed in the browser with uqr (no third-party service ever sees the TOTP key).
import { encode } from 'uqr';

/** One dark run of modules on a row: `x`, `y` and `width` in modules. */
export interface QrRun {
  readonly x: number;
  readonly y: number;
  readonly width: number;
}

export interface QrDrawing {
  /** Modules per side, quiet zone included. */
  readonly size: number;
  readonly runs: readonly QrRun[];
}

/** The quiet zone around the symbol, in modules (ISO/IEC 18004: at least four). */
export const QR_QUIET_ZONE = 4;

/**
 * Turns a module matrix (`true` = dark) into horizontal runs of dark modules, shifted by the
 * quiet zone: one SVG <rect> per run instead of one per module.
 */
export function matrixToRuns(
  matrix: readonly (readonly boolean[])[],
  quietZone = QR_QUIET_ZONE,
): QrDrawing {
  const runs: QrRun[] = [];
  matrix.forEach((row, y) => {
    let start = -1;
    for (let x = 0; x <= row.length; x++) {
      const dark = x < row.length && row[x] === true;
      if (dark && start < 0) start = x;
      if (!dark && start >= 0) {
        runs.push({ x: start + quietZone, y: y + quietZone, width: x - start });
        start = -1;
      }
    }
  });
  return { size: matrix.length + 2 * quietZone, runs };
}

/**
 * The QR code of `text` (an otpauth:// URI) with error correction level M, as runs to draw.
 * WARNING: `text` holds the TOTP key; it is encoded here, in memory, and goes nowhere else.
 */
export function qrDrawing(text: string): QrDrawing {
  const { data } = encode(text, { ecc: 'M', border: 0 });
  return matrixToRuns(data);
}

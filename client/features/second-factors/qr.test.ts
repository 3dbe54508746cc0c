// The QR code drawing: runs of dark modules that paint exactly the symbol, with finder patterns and a quiet zone where ISO/IEC 18004 puts them.
import { describe, expect, it } from 'vitest';
import { QR_QUIET_ZONE, matrixToRuns, qrDrawing, type QrDrawing } from './qr';

/** Paints the runs back onto a grid, as the SVG does (a run covers `width` modules from x). */
function paint(drawing: QrDrawing): boolean[][] {
  const grid = Array.from({ length: drawing.size }, () =>
    Array.from({ length: drawing.size }, () => false),
  );
  for (const run of drawing.runs) {
    for (let x = run.x; x < run.x + run.width; x++) {
      const row = grid[run.y];
      if (!row || x >= drawing.size) throw new Error(`run outside the drawing at ${x},${run.y}`);
      if (row[x]) throw new Error(`two runs overlap at ${x},${run.y}`);
      row[x] = true;
    }
  }
  return grid;
}

const cell = (grid: boolean[][], x: number, y: number) => grid[y]?.[x] === true;

/** A finder pattern (ISO/IEC 18004 6.3.3): a dark 7x7 ring, a light 5x5 ring, a dark 3x3 core, a light separator around it. */
function expectFinderAt(grid: boolean[][], left: number, top: number) {
  for (let dy = -1; dy <= 7; dy++) {
    for (let dx = -1; dx <= 7; dx++) {
      const ring = Math.max(Math.abs(dx - 3), Math.abs(dy - 3));
      const dark = ring === 3 || ring <= 1;
      expect(
        cell(grid, left + dx, top + dy),
        `module ${dx},${dy} of the finder at ${left},${top}`,
      ).toBe(dark);
    }
  }
}

describe('matrixToRuns', () => {
  it('joins dark modules of a row into runs and shifts them by the quiet zone', () => {
    const matrix = [
      [true, true, false, true],
      [false, false, false, false],
      [false, true, true, true],
    ];
    expect(matrixToRuns(matrix, 2)).toEqual({
      size: 7,
      runs: [
        { x: 2, y: 2, width: 2 },
        { x: 5, y: 2, width: 1 },
        { x: 3, y: 4, width: 3 },
      ],
    });
  });

  it('paints back exactly the matrix inside a light quiet zone', () => {
    const matrix = Array.from({ length: 9 }, (_, y) =>
      Array.from({ length: 9 }, (_, x) => (x * 7 + y * 3) % 5 < 2),
    );
    const grid = paint(matrixToRuns(matrix, 3));
    expect(grid.length).toBe(15);
    grid.forEach((row, y) =>
      row.forEach((dark, x) => {
        const inside = x >= 3 && x < 12 && y >= 3 && y < 12;
        expect(dark, `${x},${y}`).toBe(inside ? matrix[y - 3]?.[x - 3] === true : false);
      }),
    );
  });
});

describe('qrDrawing', () => {
  const uri =
    'otpauth://totp/Kluis:ann%40example.org?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Kluis&algorithm=SHA1&digits=6&period=30';

  it('draws a symbol of a valid version with three finder patterns and a four-module quiet zone', () => {
    const drawing = qrDrawing(uri);
    const symbol = drawing.size - 2 * 4;
    // Version v has 4v + 17 modules a side (ISO/IEC 18004 6.3.1); this URI needs more than version 1.
    expect((symbol - 17) % 4).toBe(0);
    const version = (symbol - 17) / 4;
    expect(version).toBeGreaterThan(1);
    expect(version).toBeLessThanOrEqual(40);
    expect(QR_QUIET_ZONE).toBe(4);

    const grid = paint(drawing);
    expectFinderAt(grid, 4, 4);
    expectFinderAt(grid, 4 + symbol - 7, 4);
    expectFinderAt(grid, 4, 4 + symbol - 7);
    // No finder at the bottom right: that corner tells a reader which way up the symbol is.
    expect(
      cell(grid, 4 + symbol - 4, 4 + symbol - 4) && cell(grid, 4 + symbol - 1, 4 + symbol - 7),
    ).toBe(false);
    // Timing patterns: row and column 6 alternate dark and light between the finders (6.3.5).
    for (let i = 8; i < symbol - 8; i++) {
      expect(cell(grid, 4 + i, 4 + 6), `timing row at ${i}`).toBe(i % 2 === 0);
      expect(cell(grid, 4 + 6, 4 + i), `timing column at ${i}`).toBe(i % 2 === 0);
    }
    // The dark module beside the bottom-left finder (6.9.1: at (8, 4v + 9)).
    expect(cell(grid, 4 + 8, 4 + 4 * version + 9)).toBe(true);
    // The quiet zone stays light.
    grid.forEach((row, y) =>
      row.forEach((dark, x) => {
        if (x < 4 || y < 4 || x >= drawing.size - 4 || y >= drawing.size - 4)
          expect(dark, `${x},${y}`).toBe(false);
      }),
    );
  });

  it('depends on the text: another key draws another symbol', () => {
    const other = uri.replace('JBSWY3DP', 'KRSXG5CT');
    expect(qrDrawing(other).runs).not.toEqual(qrDrawing(uri).runs);
  });
});

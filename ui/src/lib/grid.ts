/**
 * The lane grid's shape: how many columns and rows fit `count` tiles in an area best, so that every
 * lane is on screen at once (1 to 48 and more, 1080p or 4K) and the tiles stay about as wide as a
 * tile's contents want (TILE_ASPECT), never much taller or flatter.
 */

/** Width ÷ height of the tile the contents are laid out for. */
export const TILE_ASPECT = 1.25;
/**
 * Tiles shorter than this many rem (about 25 lanes and more on one screen) are dense: their
 * figures go without labels, and a legend beside the grid says which is which.
 */
const DENSE_BELOW_REM = 13;

export interface GridShape {
  columns: number;
  rows: number;
  dense: boolean;
}

/**
 * Picks the columns that give the biggest tile of the wanted shape that fits (ties: fewer rows).
 * Sizes are CSS pixels; `rem` is the root font size.
 */
export function gridShape(count: number, area: { width: number; height: number; gap: number; rem: number }): GridShape {
  const { width, height, gap, rem } = area;
  if (count <= 0 || width <= 0 || height <= 0) return { columns: 1, rows: 1, dense: false };
  let best = { columns: 1, rows: count, size: -1, height: 0 };
  for (let columns = 1; columns <= count; columns++) {
    const rows = Math.ceil(count / columns);
    const tileWidth = (width - gap * (columns - 1)) / columns;
    const tileHeight = (height - gap * (rows - 1)) / rows;
    // The largest tile of TILE_ASPECT inside the cell: its width.
    const size = Math.min(tileWidth, tileHeight * TILE_ASPECT);
    if (size > best.size) best = { columns, rows, size, height: tileHeight };
  }
  return { columns: best.columns, rows: best.rows, dense: best.height < DENSE_BELOW_REM * rem };
}

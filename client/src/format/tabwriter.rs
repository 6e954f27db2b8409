//! A port of the semantics of Go's `text/tabwriter`, which podman uses to
//! align table output.
//!
//! Text is split into cells by tabs; a cell belongs to a column only when it
//! is tab-terminated, so the last cell of a line never influences alignment.
//! A column block is a run of consecutive lines that all have a terminated
//! cell in that column, and its width is the widest cell plus padding (at
//! least `minwidth`). Output is buffered until [`TabWriter::flush`], except
//! that a line without tabs ends every block and lets buffered text out.

use std::io::{self, Write};

/// Right-align cell contents (Go's `tabwriter.AlignRight`).
pub const ALIGN_RIGHT: u32 = 4;
/// Give columns of empty `\v`-terminated cells no width.
pub const DISCARD_EMPTY_COLUMNS: u32 = 8;
/// Pad leading empty cells with tabs regardless of the padding character.
pub const TAB_INDENT: u32 = 16;
/// Print a `|` between columns.
pub const DEBUG: u32 = 32;

struct Cell {
    text: Vec<u8>,
    width: usize,
    htab: bool,
}

/// Column-aligning writer; see the module documentation.
pub struct TabWriter<W: Write> {
    out: W,
    minwidth: usize,
    tabwidth: usize,
    padding: usize,
    padchar: u8,
    flags: u32,
    lines: Vec<Vec<Cell>>,
    cell: Vec<u8>,
}

impl<W: Write> TabWriter<W> {
    /// Same parameters as Go's `tabwriter.NewWriter`.
    pub fn new(
        out: W,
        minwidth: usize,
        tabwidth: usize,
        padding: usize,
        padchar: u8,
        flags: u32,
    ) -> Self {
        let mut flags = flags;
        if padchar == b'\t' {
            // Tab padding cannot right-align.
            flags &= !ALIGN_RIGHT;
        }
        TabWriter {
            out,
            minwidth,
            tabwidth,
            padding,
            padchar,
            flags,
            lines: vec![Vec::new()],
            cell: Vec::new(),
        }
    }

    /// podman's report writer: minwidth 12, tabwidth 2, padding 2, spaces.
    pub fn podman(out: W) -> Self {
        TabWriter::new(out, 12, 2, 2, b' ', 0)
    }

    fn terminate_cell(&mut self, htab: bool) -> usize {
        let text = std::mem::take(&mut self.cell);
        // Width counts runes, as Go's utf8.RuneCount does.
        let width = text.iter().filter(|b| (**b & 0xC0) != 0x80).count();
        let line = self.lines.last_mut().expect("tabwriter always has a line");
        line.push(Cell { text, width, htab });
        line.len()
    }

    fn write_padding(&self, buf: &mut Vec<u8>, textw: usize, cellw: usize, use_tabs: bool) {
        if self.padchar == b'\t' || use_tabs {
            if self.tabwidth == 0 {
                return;
            }
            let cellw = cellw.div_ceil(self.tabwidth) * self.tabwidth;
            let n = cellw.saturating_sub(textw);
            buf.extend(std::iter::repeat_n(b'\t', n.div_ceil(self.tabwidth)));
            return;
        }
        buf.extend(std::iter::repeat_n(
            self.padchar,
            cellw.saturating_sub(textw),
        ));
    }

    /// Formats and writes every buffered line, then starts afresh.
    fn flush_lines(&mut self) -> io::Result<()> {
        let lines = std::mem::replace(&mut self.lines, vec![Vec::new()]);
        // Blocks of column c are the maximal runs of lines with a terminated
        // cell in column c; such runs always nest inside the blocks of c-1,
        // so computing them column by column equals Go's recursive walk
        // without recursing once per column.
        let terminated = |l: &Vec<Cell>| l.len().saturating_sub(1);
        let mut widths: Vec<Vec<usize>> = lines.iter().map(|l| vec![0; terminated(l)]).collect();
        let max_cols = lines.iter().map(terminated).max().unwrap_or(0);
        for c in 0..max_cols {
            let mut i = 0;
            while i < lines.len() {
                if terminated(&lines[i]) <= c {
                    i += 1;
                    continue;
                }
                let start = i;
                let mut width = self.minwidth;
                let mut discardable = true;
                while i < lines.len() && terminated(&lines[i]) > c {
                    let cell = &lines[i][c];
                    width = width.max(cell.width + self.padding);
                    if cell.width > 0 || cell.htab {
                        discardable = false;
                    }
                    i += 1;
                }
                if discardable && self.flags & DISCARD_EMPTY_COLUMNS != 0 {
                    width = 0;
                }
                for w in &mut widths[start..i] {
                    w[c] = width;
                }
            }
        }
        let mut buf = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let mut use_tabs = self.flags & TAB_INDENT != 0;
            for (j, c) in line.iter().enumerate() {
                if j > 0 && self.flags & DEBUG != 0 {
                    buf.push(b'|');
                }
                let cellw = widths[i].get(j).copied();
                if c.text.is_empty() {
                    if let Some(w) = cellw {
                        self.write_padding(&mut buf, c.width, w, use_tabs);
                    }
                } else {
                    use_tabs = false;
                    if self.flags & ALIGN_RIGHT == 0 {
                        buf.extend_from_slice(&c.text);
                        if let Some(w) = cellw {
                            self.write_padding(&mut buf, c.width, w, false);
                        }
                    } else {
                        if let Some(w) = cellw {
                            self.write_padding(&mut buf, c.width, w, false);
                        }
                        buf.extend_from_slice(&c.text);
                    }
                }
            }
            // The last buffered line is unfinished: it has no newline yet.
            if i + 1 < lines.len() {
                buf.push(b'\n');
            }
        }
        self.out.write_all(&buf)
    }
}

impl<W: Write> Write for TabWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        for &b in data {
            match b {
                b'\t' | b'\x0b' | b'\n' | b'\x0c' => {
                    let ncells = self.terminate_cell(b == b'\t');
                    if b == b'\n' || b == b'\x0c' {
                        self.lines.push(Vec::new());
                        // A line without tabs ends all column blocks, so the
                        // buffered text can no longer change: write it out.
                        if b == b'\x0c' || ncells == 1 {
                            self.flush_lines()?;
                            if b == b'\x0c' && self.flags & DEBUG != 0 {
                                self.out.write_all(b"---\n")?;
                            }
                        }
                    }
                }
                _ => self.cell.push(b),
            }
        }
        Ok(data.len())
    }

    /// Go's `Flush`: the pending partial line becomes a final cell and
    /// everything buffered is aligned and written.
    fn flush(&mut self) -> io::Result<()> {
        if !self.cell.is_empty() {
            self.terminate_cell(false);
        }
        self.flush_lines()?;
        self.out.flush()
    }
}

impl<W: Write> Drop for TabWriter<W> {
    fn drop(&mut self) {
        let pending = !self.cell.is_empty() || self.lines.len() > 1 || !self.lines[0].is_empty();
        if pending {
            let _ = self.flush();
        }
    }
}

import type * as PdfLib from 'pdf-lib';

/**
 * Sandbox documents as real PDFs (pdf-lib). Deterministic: no clock, no random ids, so the same content
 * gives the same bytes.
 */
export interface PdfContent {
  title: string;
  /** Lines shown under the title: patient, author, institution, date. */
  header: string[];
  paragraphs: string[];
  /** The document's own date, also its PDF creation date. */
  date: string;
  /** Pads the document with further text pages until it is at least this many bytes (for benchmarks). */
  minimumBytes?: number;
}

const FONT_SIZE = 11;
const MARGIN = 56;
const LINE_HEIGHT = 15;
const CHARS_PER_LINE = 88;

function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > CHARS_PER_LINE) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export async function renderPdf(content: PdfContent): Promise<Uint8Array> {
  // loaded when the first PDF is made, not when Navet starts
  const { PDFDocument, StandardFonts } = require('pdf-lib') as typeof PdfLib;
  const pdf = await PDFDocument.create({ updateMetadata: false });
  const date = new Date(content.date);
  pdf.setTitle(content.title);
  pdf.setProducer('Navet sandbox');
  pdf.setCreator('Navet sandbox');
  pdf.setCreationDate(date);
  pdf.setModificationDate(date);
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const lines: { text: string; bold?: boolean }[] = [
    { text: content.title, bold: true },
    { text: '' },
    ...content.header.map((text) => ({ text })),
    { text: '' },
    ...content.paragraphs.flatMap((p) => [...wrap(p).map((text) => ({ text })), { text: '' }]),
  ];
  const draw = () => {
    let page = pdf.addPage([595, 842]);
    let y = 842 - MARGIN;
    for (const line of lines) {
      if (y < MARGIN) {
        page = pdf.addPage([595, 842]);
        y = 842 - MARGIN;
      }
      // the standard fonts speak WinAnsi: Norwegian letters are there, others are replaced
      const safe = line.text.replace(/[^\x20-\x7e\u00a0-\u00ff]/g, '?');
      page.drawText(safe, { x: MARGIN, y, size: line.bold ? FONT_SIZE + 3 : FONT_SIZE, font: line.bold ? bold : font });
      y -= LINE_HEIGHT;
    }
  };
  draw();
  let bytes = await pdf.save({ useObjectStreams: false });
  let page = 1;
  while (content.minimumBytes && bytes.length < content.minimumBytes) {
    lines.splice(
      0,
      lines.length,
      { text: `${content.title}, vedlegg ${page++}`, bold: true },
      ...Array.from({ length: 45 }, (_, i) => ({
        text: `Måling ${i + 1}: ${'verdi innenfor referanseområdet; '.repeat(2)}`,
      })),
    );
    draw();
    bytes = await pdf.save({ useObjectStreams: false });
  }
  return bytes;
}

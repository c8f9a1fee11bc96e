/**
 * The nft input scanner (src/scanner.l of nftables, reduced): words (identifiers, numbers,
 * addresses, ranges and prefixes stay one word and are split by the datatype that reads
 * them), quoted strings, punctuation, newlines; `#` starts a comment. Every token keeps its
 * byte offsets in the input so errors can underline it.
 */

/** Token kinds. */
export type TokKind = "word" | "string" | "punct" | "nl" | "eof";

/** A token with its position in the source. */
export interface Token {
  readonly kind: TokKind;
  /** Word text, string contents (without quotes), punctuation, "\n" or "". */
  readonly text: string;
  /** Offset of the first character in the source. */
  readonly start: number;
  /** Offset after the last character. */
  readonly end: number;
}

/** A location span in the source. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A parse or evaluation error with the span nft underlines (and an optional `~~~` span). */
export class NftSyntaxError extends Error {
  readonly span: Span;
  readonly secondary: Span | null;
  /** A further error bison reports after recovering from this one. */
  followUp: NftSyntaxError | null = null;

  constructor(message: string, span: Span, secondary: Span | null = null) {
    super(message);
    this.name = "NftSyntaxError";
    this.span = span;
    this.secondary = secondary;
  }
}

const PUNCT2 = ["!=", "==", "<=", ">="];
const PUNCT1 = new Set([";", "{", "}", ",", "<", ">", "&", "|", "^", "(", ")", "[", "]", "+", "=", "!"]);
const WORD = /[A-Za-z0-9_./:\-*$@~\\]/;

/** Splits nft input into tokens. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "\\" && src[i + 1] === "\n") {
      i += 2;
      continue;
    }
    if (c === "\n") {
      out.push({ kind: "nl", text: "\n", start: i, end: i + 1 });
      i++;
      continue;
    }
    if (c === "#") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === '"') {
      const close = src.indexOf('"', i + 1);
      const nl = src.indexOf("\n", i + 1);
      if (close < 0 || (nl >= 0 && nl < close)) {
        throw new NftSyntaxError(
          "syntax error, unexpected junk, expecting string or quoted string or string with a trailing asterisk",
          { start: i, end: i + 1 },
        );
      }
      out.push({ kind: "string", text: src.slice(i + 1, close), start: i, end: close + 1 });
      i = close + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT2.includes(two)) {
      out.push({ kind: "punct", text: two, start: i, end: i + 2 });
      i += 2;
      continue;
    }
    if (PUNCT1.has(c)) {
      out.push({ kind: "punct", text: c, start: i, end: i + 1 });
      i++;
      continue;
    }
    if (WORD.test(c)) {
      let j = i;
      while (j < src.length && WORD.test(src[j])) j++;
      out.push({ kind: "word", text: src.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    throw new NftSyntaxError("syntax error, unexpected junk", { start: i, end: i + 1 });
  }
  out.push({ kind: "eof", text: "", start: src.length, end: src.length });
  return out;
}

/** Formats an error the way nft prints it: location prefix (files only), message, line, markers. */
export function formatNftError(
  src: string,
  file: string | null,
  message: string,
  span: Span,
  secondary: Span | null,
): string {
  const start = Math.min(span.start, src.length);
  const end = Math.max(Math.min(span.end, src.length), start);
  if (start === src.length) {
    // End of input: bison's location is column 1 of the line after the last newline, and nft
    // prints the last line of text with it.
    const lines = src.split("\n");
    const lineNo = lines.length;
    const text = (src.endsWith("\n") ? lines[lines.length - 2] : lines[lines.length - 1]) ?? "";
    const where = file === null ? "" : `${file}:${lineNo}:1-1: `;
    return `${where}Error: ${message}\n${text}\n^\n`;
  }
  const lineStart = src.lastIndexOf("\n", start - 1) + 1;
  let lineEnd = src.indexOf("\n", lineStart);
  if (lineEnd < 0) lineEnd = src.length;
  const line = src.slice(lineStart, lineEnd);
  const lineNo = src.slice(0, lineStart).split("\n").length;
  // A span may cover the newline that ends the line (a whole command does).
  const last = Math.min(end, lineEnd + 1);
  let marks = "";
  for (let k = lineStart; k < Math.max(last, start + 1); k++) {
    const ch = src[k];
    if (k >= start) marks += "^";
    else if (secondary && k >= secondary.start && k < secondary.end) marks += "~";
    else marks += ch === "\t" ? "\t" : " ";
  }
  const col1 = start - lineStart + 1;
  const col2 = Math.max(last - lineStart, col1);
  const where = file === null ? "" : `${file}:${lineNo}:${col1}-${col2}: `;
  return `${where}Error: ${message}\n${line}\n${marks}\n`;
}

/**
 * iproute2's output layer (lib/json_print.c + lib/json_writer.c): one call prints a value either
 * as text with a printf format (PRINT_FP) or as a JSON member (PRINT_JSON), or whichever the
 * current mode is (PRINT_ANY). The JSON writer reproduces jsonw's separators and its pretty form
 * (`-p`) byte for byte.
 */

/** Where a value goes: text only, JSON only, or both. */
export type PrintType = "fp" | "json" | "any";

/** A tiny printf: %s %d %u %x %lu %llu with flags '-', '#', '0' and a width. */
export function sprintf(fmt: string, ...args: readonly (string | number | bigint | null)[]): string {
  let i = 0;
  return fmt.replace(
    /%([-#0]*)(\d*)(?:\.(\d+))?(?:hh|h|ll|l)?([sdiuxX%])/g,
    (_m, flags: string, width: string, _prec, conv: string) => {
      if (conv === "%") return "%";
      const v = args[i++];
      let s: string;
      if (conv === "s") s = v === null || v === undefined ? "(null)" : String(v);
      else if (conv === "x" || conv === "X") {
        s = BigInt(v ?? 0).toString(16);
        if (conv === "X") s = s.toUpperCase();
        if (flags.includes("#") && BigInt(v ?? 0) !== 0n) s = `0x${s}`;
      } else s = BigInt(v ?? 0).toString();
      const w = width ? Number(width) : 0;
      if (s.length >= w) return s;
      if (flags.includes("-")) return s.padEnd(w, " ");
      if (flags.includes("0") && conv !== "s") return s.padStart(w, "0");
      return s.padStart(w, " ");
    },
  );
}

/** jsonw_puts: a JSON string with jsonw's escapes. */
function jsonQuote(s: string): string {
  let out = '"';
  for (const c of s) {
    switch (c) {
      case "\t":
        out += "\\t";
        break;
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\f":
        out += "\\f";
        break;
      case "\b":
        out += "\\b";
        break;
      case "\\":
        out += "\\\\";
        break;
      case '"':
        out += '\\"';
        break;
      case "'":
        out += "\\'";
        break;
      default:
        out += c;
    }
  }
  return `${out}"`;
}

/** The printer of one `ip` run: text or JSON, collected into a string. */
export class Printer {
  /** Whether `-j` is in effect. */
  readonly json: boolean;
  /** `-p` (pretty JSON). */
  readonly pretty: boolean;
  /** The line separator `_SL_`: "\n", or "\\" with `-o`. */
  readonly sl: string;
  #out = "";
  #depth = 0;
  #sep = "";
  #open = false;

  constructor(options: { json: boolean; pretty: boolean; oneline: boolean }) {
    this.json = options.json;
    this.pretty = options.pretty;
    this.sl = options.oneline ? "\\" : "\n";
  }

  /** Takes what was printed so far. */
  take(): string {
    const s = this.#out;
    this.#out = "";
    return s;
  }

  /** new_json_obj: starts the top-level array in JSON mode. */
  start(): void {
    if (!this.json) return;
    this.#open = true;
    this.#startArray();
  }

  /** delete_json_obj: ends the top-level array and the line. */
  end(): void {
    if (!this.json || !this.#open) return;
    this.#open = false;
    this.#endArray();
    this.#out += "\n";
  }

  #eol(): void {
    if (!this.pretty) return;
    this.#out += `\n${"    ".repeat(this.#depth)}`;
  }

  #eor(): void {
    this.#out += this.#sep;
    this.#sep = ",";
  }

  #begin(c: string): void {
    this.#eor();
    this.#out += c;
    this.#depth++;
    this.#sep = "";
  }

  #end(c: string): void {
    this.#depth--;
    if (this.#sep !== "") this.#eol();
    this.#out += c;
    this.#sep = ",";
  }

  #name(name: string): void {
    this.#eor();
    this.#eol();
    this.#sep = "";
    this.#out += `${jsonQuote(name)}:${this.pretty ? " " : ""}`;
  }

  #startArray(): void {
    this.#begin("[");
    if (this.pretty) this.#out += " ";
  }

  #endArray(): void {
    if (this.pretty && this.#sep !== "") this.#out += " ";
    this.#sep = "";
    this.#end("]");
  }

  #raw(value: string): void {
    this.#eor();
    this.#out += value;
  }

  #jsonValue(key: string | null, value: string): void {
    if (key !== null) this.#name(key);
    this.#raw(value);
  }

  #text(type: PrintType): boolean {
    return !this.json && type !== "json";
  }

  #isJson(type: PrintType): boolean {
    return this.json && type !== "fp";
  }

  /** Raw text (fprintf to the output), only in text mode. */
  fp(s: string): void {
    if (!this.json) this.#out += s;
  }

  /** print_nl: `_SL_` in text mode. */
  nl(): void {
    if (!this.json) this.#out += this.sl;
  }

  /** print_string. */
  string(type: PrintType, key: string | null, fmt: string | null, value: string | null): void {
    if (this.#isJson(type)) this.#jsonValue(key, value === null ? "null" : jsonQuote(value));
    else if (this.#text(type) && fmt !== null) this.#out += sprintf(fmt, value);
  }

  /** print_int / print_uint / print_u64. */
  number(type: PrintType, key: string | null, fmt: string | null, value: number | bigint): void {
    if (this.#isJson(type)) this.#jsonValue(key, String(value));
    else if (this.#text(type) && fmt !== null) this.#out += sprintf(fmt, value);
  }

  /** print_hex: JSON gets the hex digits as a string. */
  hex(type: PrintType, key: string | null, fmt: string, value: number): void {
    if (this.#isJson(type)) this.#jsonValue(key, jsonQuote(value.toString(16)));
    else if (this.#text(type)) this.#out += sprintf(fmt, value);
  }

  /** print_bool: text prints the format with "true"/"false" as its argument. */
  bool(type: PrintType, key: string | null, fmt: string | null, value: boolean): void {
    if (this.#isJson(type)) this.#jsonValue(key, value ? "true" : "false");
    else if (this.#text(type) && fmt !== null) this.#out += sprintf(fmt, value ? "true" : "false");
  }

  /** print_null. */
  null(type: PrintType, key: string | null, fmt: string | null, value: string | null): void {
    if (this.#isJson(type)) this.#jsonValue(key, "null");
    else if (this.#text(type) && fmt !== null) this.#out += sprintf(fmt, value);
  }

  /** print_on_off: JSON true/false, text "on"/"off". */
  onOff(type: PrintType, key: string | null, fmt: string, value: boolean): void {
    if (this.#isJson(type)) this.#jsonValue(key, value ? "true" : "false");
    else if (this.#text(type)) this.#out += sprintf(fmt, value ? "on" : "off");
  }

  /** open_json_object. */
  openObject(name: string | null): void {
    if (!this.json) return;
    if (name !== null) this.#name(name);
    this.#begin("{");
  }

  /** close_json_object. */
  closeObject(): void {
    if (this.json) this.#end("}");
  }

  /** open_json_array: JSON array, or `str` as text. */
  openArray(type: PrintType, str: string | null): void {
    if (this.#isJson(type)) {
      if (str !== null) this.#name(str);
      this.#startArray();
    } else if (this.#text(type) && str !== null) this.#out += str;
  }

  /** close_json_array. */
  closeArray(type: PrintType, str: string | null): void {
    if (this.#isJson(type)) this.#endArray();
    else if (this.#text(type) && str !== null) this.#out += str;
  }
}

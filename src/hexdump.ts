/**
 * `bytes` in the layout of `hexdump -C -v`: each line an 8-digit hex offset, 16 bytes in hex (two
 * groups of 8), and those bytes as printable ASCII between bars (`.` for anything else). `start`
 * is the offset of the first byte in its stream, so that consecutive chunks number on. Unlike
 * hexdump, no closing line with the total: the caller's header says the length.
 */
export function hexdumpLines(bytes: Uint8Array, start = 0): string {
  let out = '';
  for (let line = 0; line < bytes.length; line += 16) {
    let hex = '';
    let text = '';
    for (let i = 0; i < 16; i++) {
      const at = line + i;
      if (i === 8) hex += ' ';
      if (at < bytes.length) {
        const byte = bytes[at] as number;
        hex += ` ${HEX[byte] as string}`;
        text += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
      } else {
        hex += '   ';
      }
    }
    out += `${(start + line).toString(16).padStart(8, '0')} ${hex}  |${text}|\n`;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

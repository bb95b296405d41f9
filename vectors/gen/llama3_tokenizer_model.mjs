// llama3_tokenizer_model.mjs - writes Meta's Llama 3 tiktoken file
// (128,000 lines "base64(bytes) rank") from the vocabulary shipped in the npm
// package llama3-tokenizer-js (tokens stored through GPT-2's byte->unicode
// map), and checks Meta's published md5.  Used by `make llama3-tokenizer`.
// Usage: node llama3_tokenizer_model.mjs OUT_PATH
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import llama3Tokenizer from 'llama3-tokenizer-js';

const MD5 = '08292403f8b173e7524d7fba7bbbd2d3';
const out = process.argv[2];
if (!out) { console.error('usage: node llama3_tokenizer_model.mjs OUT_PATH'); process.exit(2); }

// GPT-2 bytes_to_unicode, inverted: code point -> byte
const toByte = new Map();
let n = 0;
for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    toByte.set(printable ? b : 256 + n++, b);
}
const lines = [];
for (let id = 0; id < 128000; id++) {
    const tok = llama3Tokenizer.vocabById[id];
    const bytes = Array.from(tok, ch => {
        const b = toByte.get(ch.codePointAt(0));
        if (b === undefined) throw new Error(`token ${id}: character outside the byte alphabet`);
        return b;
    });
    lines.push(`${Buffer.from(bytes).toString('base64')} ${id}\n`);
}
const data = Buffer.from(lines.join(''), 'latin1');
const md5 = crypto.createHash('md5').update(data).digest('hex');
if (md5 !== MD5) { console.error(`md5 ${md5} != ${MD5}: not written`); process.exit(1); }
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, data);
console.log(`${out}: ${data.length} bytes, md5 ${md5} (matches Meta's)`);

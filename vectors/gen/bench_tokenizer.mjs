// bench_tokenizer.mjs - llama3-tokenizer-js throughput on the same corpora and
// in the same way as tests/bench/bench_tokenizer.c (line by line, plain text, about
// a second of passes).  Usage: node bench_tokenizer.mjs CORPUS...
import fs from 'node:fs';
import llama3Tokenizer from 'llama3-tokenizer-js';

const opts = { bos: false, eos: false, specialTokenRegex: /(?!)/g };
for (const file of process.argv.slice(2)) {
    const buf = fs.readFileSync(file);
    const lines = buf.toString('utf8').split(/(?<=\n)/);
    let passes = 0, tokens = 0;
    const t0 = process.hrtime.bigint();
    let t = 0;
    do {
        tokens = 0;
        for (const line of lines) tokens += llama3Tokenizer.encode(line, opts).length;
        passes++;
        t = Number(process.hrtime.bigint() - t0) / 1e9;
    } while (t < 1.0);
    console.log(`llama3-tokenizer-js: ${file}: ${(buf.length / 1e6).toFixed(2)} MB, ${tokens} tokens, ${passes} passes: ${(buf.length * passes / 1e6 / t).toFixed(2)} MB/s`);
}

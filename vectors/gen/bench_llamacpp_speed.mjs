// bench_llamacpp_speed.mjs - prefill and decode speed of llama.cpp
// (node-llama-cpp@3.22.1, prebuilt CPU binary) on a GGUF, for the
// side-by-side runs of docs/smollm2.md and `make bench-prefill`
// (tests/bench/bench_prefill.sh).
//
//   node bench_llamacpp_speed.mjs MODEL.gguf "ID ID ..." N_DECODE [THREADS [KV]]
//
// THREADS: llama.cpp's threads (default 1); KV: the type of its K and V
// cache, f16 (llama.cpp's default, the default here) or f32.
// Prefill: the prompt ids evaluated in one batch, up to the first
// generated token (greedy); decode: the next N_DECODE - 1 tokens, one at a
// time, end-of-generation tokens ignored.  Prints one line like llamaref
// generate's.  Install as in llamacpp_logits.mjs (into an ignored folder).
import { getLlama } from "node-llama-cpp";

const [modelPath, idsArg, nArg, thArg, kvArg] = process.argv.slice(2);
const nDecode = Number(nArg);
const threads = thArg === undefined ? 1 : Number(thArg);
const kv = kvArg === undefined ? "f16" : kvArg;
if (!modelPath || !idsArg || !(nDecode >= 1) || !(threads >= 1) ||
    (kv !== "f16" && kv !== "f32")) {
    console.error("usage: node bench_llamacpp_speed.mjs MODEL.gguf \"ID ID ...\" N_DECODE [THREADS [f16|f32]]");
    process.exit(2);
}
const llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const ids = idsArg.trim().split(/\s+/).map(Number);
const ctx = await model.createContext({
    contextSize: ids.length + nDecode + 16,
    batchSize: ids.length,
    flashAttention: false,
    experimentalKvCacheKeyType: kv.toUpperCase(),
    experimentalKvCacheValueType: kv.toUpperCase(),
    threads,
});
const seq = ctx.getSequence();
let n = 0, t1 = 0;
const t0 = performance.now();
for await (const tok of seq.evaluate(ids, { temperature: 0 })) {
    if (n === 0) t1 = performance.now();
    n++;
    if (n >= nDecode) break;
}
const t2 = performance.now();
console.log(`llama.cpp: prompt ${ids.length} tokens: ${(ids.length / ((t1 - t0) / 1e3)).toFixed(1)} tok/s; ` +
            `generated ${n} tokens: ${((n - 1) / ((t2 - t1) / 1e3)).toFixed(1)} tok/s`);
process.exit(0);

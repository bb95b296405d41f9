// bench_llamacpp_speed.mjs - prefill and decode speed of llama.cpp
// (node-llama-cpp@3.22.1, prebuilt CPU binary, one thread, its default F16
// KV cache) on a GGUF, for the side-by-side run of docs/smollm2.md.
//
//   node bench_llamacpp_speed.mjs MODEL.gguf "ID ID ..." N_DECODE
//
// Prefill: the prompt ids evaluated in one batch, up to the first
// generated token (greedy); decode: the next N_DECODE - 1 tokens, one at a
// time, end-of-generation tokens ignored.  Prints one line like llamaref
// generate's.  Install as in llamacpp_logits.mjs (into an ignored folder).
import { getLlama } from "node-llama-cpp";

const [modelPath, idsArg, nArg] = process.argv.slice(2);
const nDecode = Number(nArg);
const llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const ids = idsArg.trim().split(/\s+/).map(Number);
const ctx = await model.createContext({
    contextSize: ids.length + nDecode + 16,
    batchSize: ids.length,
    flashAttention: false,
    threads: 1,
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

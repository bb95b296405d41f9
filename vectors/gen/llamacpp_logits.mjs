// llamacpp_logits.mjs - logits of a GGUF model computed by llama.cpp
// (node-llama-cpp@3.22.1, prebuilt CPU binary, F32 KV cache, flash
// attention off), for comparing with llamaref (docs/gguf.md).
//
//   node llamacpp_logits.mjs MODEL.gguf "ID ID ID ..." OUT.json [--tokenize TEXT]
//
// Writes {"ids": [...], "logits": [[... vocab ...] per position]} (every
// position's raw next-token logits), or with --tokenize the ids llama.cpp's
// tokenizer gives TEXT (no BOS/special parsing) as {"ids": [...]}.
// Install (into an ignored folder, no downloads at run time):
//   NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --ignore-scripts --omit=optional \
//     node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
import fs from "node:fs";
import { getLlama } from "node-llama-cpp";

const [modelPath, idsArg, outPath, flag, text] = process.argv.slice(2);
const llama = await getLlama({ build: "never", gpu: false, logLevel: "error" });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
if (flag === "--tokenize") {
    const lines = fs.readFileSync(text, "utf8").split("\n");
    const ids = lines.map((l) => Array.from(model.tokenize(l, false)));
    fs.writeFileSync(outPath, JSON.stringify({ lines, ids }));
    process.exit(0);
}
const ids = idsArg.trim().split(/\s+/).map(Number);
const ctx = await model.createContext({
    contextSize: Math.max(64, ids.length + 8),
    batchSize: Math.max(64, ids.length + 8),
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
    threads: 1,
});
const seq = ctx.getSequence();
const input = ids.map((t) => [t, { generateNext: { logits: true } }]);
const res = await seq.controlledEvaluate(input);
const V = model.tokens ? undefined : undefined;
const logits = res.map((r) => {
    const m = r.next.logits;
    const n = Math.max(...m.keys()) + 1;
    const row = new Array(n).fill(null);
    for (const [k, v] of m) row[k] = v;
    return row;
});
fs.writeFileSync(outPath, JSON.stringify({ ids, logits }));
console.error(`llama.cpp: ${ids.length} positions, vocab ${logits[0].length}`);

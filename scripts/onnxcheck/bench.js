// Times an ONNX model in onnxruntime-node: the inference side of
// bench/compare.sh (nettrain's own side is `nettrain bench --inference`).
//
//   node bench.js MODEL.onnx BATCH THREADS [PASSES]
//
// Feeds fixed inputs of the model's input shape with BATCH samples (for
// int64 token-id inputs, ids 0 and 1, valid in every vocabulary), runs 10 warm-up
// passes, then PASSES timed ones (default 500) on a session limited to
// THREADS intra-op threads (inter-op 1, sequential execution), and prints
// one JSON line: {"samples_per_s", "latency_ms" (median), "latency_p90_ms",
// "threads", "batch", "passes", "ort_version"}.
"use strict";
const ort = require("onnxruntime-node");

async function main() {
  const [model, batchS, threadsS, passesS] = process.argv.slice(2);
  if (!model || !batchS || !threadsS) {
    console.error("usage: node bench.js MODEL.onnx BATCH THREADS [PASSES]");
    process.exit(2);
  }
  const batch = Number(batchS), threads = Number(threadsS), passes = Number(passesS || 500);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
  });
  const name = session.inputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  let dims = meta && meta.shape ? meta.shape.map((d) => (typeof d === "number" ? d : batch)) : null;
  if (!dims) throw new Error("cannot read the model's input shape");
  dims[0] = batch;
  const n = dims.reduce((a, b) => a * b, 1);
  let tensor;
  if (meta.type === "int64") {
    tensor = new ort.Tensor("int64", BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 2)), dims);
  } else {
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = ((i * 7919) % 256);
    tensor = new ort.Tensor("float32", x, dims);
  }
  const feeds = { [name]: tensor };
  for (let i = 0; i < 10; i++) await session.run(feeds);
  const lat = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < passes; i++) {
    const t = process.hrtime.bigint();
    await session.run(feeds);
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({
    samples_per_s: (batch * passes) / secs,
    latency_ms: lat[Math.floor(lat.length / 2)],
    latency_p90_ms: lat[Math.floor((lat.length * 9) / 10)],
    threads, batch, passes,
    ort_version: require("onnxruntime-node/package.json").version,
  }));
  await session.release();
}

main().catch((e) => { console.error(e.message); process.exit(1); });

// Runs ONNX models with onnxruntime-node (the CPU runtime inside the npm
// package) and prints their outputs: the check nettrain's export tests use.
//
//   node run.js JOBS.json
//
// JOBS.json is a list of jobs, each
//   {"model": "path.onnx",
//    "inputs": {"input": {"type": "float32" | "int64", "dims": [2, 784], "data": [...]}}}
// (data flat, row-major). It prints one JSON list, one entry per job:
//   {"logits": {"dims": [2, 10], "data": [...]}, ...}
// with every output of the model (float32 values written exactly).
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-node");

async function run(job) {
  const session = await ort.InferenceSession.create(job.model, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
  });
  const feeds = {};
  for (const [name, t] of Object.entries(job.inputs)) {
    let data;
    if (t.type === "float32") data = Float32Array.from(t.data);
    else if (t.type === "int64") data = BigInt64Array.from(t.data.map((v) => BigInt(v)));
    else throw new Error(`input ${name}: unknown type ${t.type}`);
    feeds[name] = new ort.Tensor(t.type, data, t.dims);
  }
  const results = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) {
    const r = results[name];
    out[name] = { dims: r.dims.map(Number), data: Array.from(r.data, Number) };
  }
  await session.release();
  return out;
}

async function main() {
  if (process.argv.length !== 3) {
    console.error("usage: node run.js JOBS.json");
    process.exit(2);
  }
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const outs = [];
  for (const job of jobs) {
    try {
      outs.push(await run(job));
    } catch (e) {
      console.error(`${job.model}: ${e.message}`);
      process.exit(1);
    }
  }
  process.stdout.write(JSON.stringify(outs));
}

main();

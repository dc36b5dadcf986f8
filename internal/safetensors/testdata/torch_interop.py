# Manual interoperability check between nettrain's safetensors package and
# PyTorch. Debian bookworm packages torch (python3-torch) but not the
# safetensors Python package, so this re-implements safetensors.torch's
# load_file (with the Rust library's validation: contiguous offsets covering
# the data section) and save_file (compact JSON, __metadata__ first, header
# padded with spaces to a multiple of 8) on top of torch.frombuffer.
#
#   python3 torch_interop.py load FILE   # print every tensor of FILE
#   python3 torch_interop.py save FILE   # write a file of several dtypes
#
# Go tests never depend on it.
import json, struct, sys, torch
DT = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
      "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
      "U8": torch.uint8, "BOOL": torch.bool}
def load_file(path):
    b = open(path, "rb").read()
    n, = struct.unpack("<Q", b[:8])
    hdr = b[8:8+n]
    assert hdr[:1] == b"{", "header start"
    h = json.loads(hdr.decode("utf-8"))
    meta = h.pop("__metadata__", None)
    data = b[8+n:]
    # Rust validation: sorted by offsets, contiguous, covering the buffer
    items = sorted(h.items(), key=lambda kv: kv[1]["data_offsets"])
    pos = 0
    out = {}
    for name, info in items:
        s, e = info["data_offsets"]
        assert s == pos, (name, s, pos)
        dt = DT[info["dtype"]]
        nel = 1
        for d in info["shape"]: nel *= d
        assert e - s == nel * torch.empty((), dtype=dt).element_size(), name
        buf = bytearray(data[s:e])
        t = torch.frombuffer(buf, dtype=dt) if len(buf) else torch.empty(0, dtype=dt)
        out[name] = t.reshape(info["shape"])
        pos = e
    assert pos == len(data), "buffer not fully covered"
    assert n % 8 == 0, "header not padded to 8"
    return out, meta, [k for k in h], hdr
def save_file(tensors, path, metadata=None):
    hdr = {}
    if metadata: hdr["__metadata__"] = metadata
    off = 0; blobs = []
    for name, t in tensors.items():
        raw = t.contiguous().numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        rev = {v: k for k, v in DT.items()}
        hdr[name] = {"dtype": rev[t.dtype], "shape": list(t.shape), "data_offsets": [off, off+len(raw)]}
        off += len(raw); blobs.append(raw)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
if sys.argv[1] == "load":
    out, meta, order, hdr = load_file(sys.argv[2])
    print("header:", hdr.decode())
    print("metadata:", meta)
    for k, v in out.items():
        print(k, v.dtype, list(v.shape), v.flatten().tolist())
else:
    save_file({
        "w": torch.tensor([[1.0, -2.5], [3.25, 1e-3]], dtype=torch.float32),
        "d": torch.tensor([3.141592653589793], dtype=torch.float64),
        "h": torch.tensor([1.0, -0.333, 65504.0, 6e-8], dtype=torch.float16),
        "bf": torch.tensor([1.0, 3.14], dtype=torch.bfloat16),
        "labels": torch.tensor([5, 0, 4], dtype=torch.int64),
        "i32": torch.tensor([-7, 2**31-1], dtype=torch.int32),
        "px": torch.tensor([[0, 128, 255]], dtype=torch.uint8),
        "mask": torch.tensor([True, False]),
        "s": torch.tensor(2.0),
    }, sys.argv[2], {"format": "pt"})
    for k, v in load_file(sys.argv[2])[0].items():
        print(k, v.dtype, v.flatten().tolist())

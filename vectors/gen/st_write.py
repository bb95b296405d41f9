"""st_write.py - a deterministic safetensors writer for the generators.

safetensors' own save_file writes the "__metadata__" object in the order
of a Rust HashMap, which changes from one process to the next, so a file
with two or more metadata keys is not byte-reproducible.  This writer
puts the tensors in name order (data in the same order) and the header
with sorted keys, padded with spaces to a multiple of 8 bytes.
"""
import json
import struct


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> (dtype str, shape list, little-endian bytes)."""
    header = {}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


NUMPY_DTYPES = {"float64": "F64", "float32": "F32", "float16": "F16",
                "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8",
                "uint8": "U8", "uint64": "U64", "uint32": "U32", "bool": "BOOL"}


def write_numpy(path, arrays, metadata=None):
    """arrays: name -> numpy array (written little-endian, C order)."""
    t = {}
    for name, a in arrays.items():
        d = NUMPY_DTYPES[a.dtype.name]
        t[name] = (d, list(a.shape), a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes(order="C"))
    write_safetensors(path, t, metadata)

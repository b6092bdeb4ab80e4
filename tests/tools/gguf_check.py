#!/usr/bin/python3
"""Checks a GGUF written by bench/llama-cpp/mst_to_gguf.py against the HF checkpoint it came from.

    gguf_check.py OUT.gguf HF_DIR

Reads the GGUF on its own (header, metadata, tensor table), dequantizes a sample of tensors
(Q8_0 / BF16 / F32) and compares them with the safetensors weights dequantized with their
block scales: every Q8_0 value must be within half a quantization step of the reference (plus the
step's own rounding to fp16).
Prints "gguf ok: ..." and exits 0, else names the first mismatch and exits 1.
"""
import json
import struct
import sys

import numpy as np


def read_gguf(path):
    data = np.memmap(path, np.uint8, mode="r")
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = bytes(data[pos:pos + n]).decode("utf-8")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(kind):
        if kind == 8:
            return string()
        if kind == 9:
            inner, n = take("I"), take("Q")
            return [value(inner) for _ in range(n)]
        return take(scalar[kind])

    assert bytes(data[:4]) == b"GGUF", "not a GGUF file"
    pos = 4
    version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    assert version == 3, version
    meta = {}
    for _ in range(n_kv):
        key = string()
        meta[key] = value(take("I"))
    tensors = {}
    for _ in range(n_tensors):
        name = string()
        ne = [take("Q") for _ in range(take("I"))]
        tensors[name] = (ne, take("I"), take("Q"))
    align = meta.get("general.alignment", 32)
    start = -(-pos // align) * align
    return data, meta, tensors, start


def dequantize(data, start, ne, kind, offset):
    n = int(np.prod(ne))
    at = start + offset
    if kind == 0:
        return np.frombuffer(data, np.float32, n, at).reshape(ne[::-1])
    if kind == 30:
        return (np.frombuffer(data, np.uint16, n, at).astype(np.uint32) << 16).view(np.float32).reshape(ne[::-1])
    assert kind == 8, f"type {kind}"
    blocks = np.frombuffer(data, np.dtype([("d", "<f2"), ("qs", "i1", (32,))]), n // 32, at)
    d = blocks["d"].astype(np.float32)
    return (blocks["qs"].astype(np.float32) * d[:, None]).reshape(ne[::-1]), d.reshape(*ne[::-1][:-1], ne[0] // 32)


def e4m3(raw):
    raw = raw.astype(np.int32)
    exp, man = (raw >> 3) & 15, raw & 7
    mag = np.where(exp == 0, man * 2.0 ** -9, (8 + man) * 2.0 ** (exp - 10))
    return np.where(raw & 128, -mag, mag).astype(np.float32)


class Checkpoint:
    def __init__(self, hf_dir):
        index = json.load(open(f"{hf_dir}/model.safetensors.index.json"))["weight_map"]
        self.files = {}
        self.where = {}
        for name, shard in index.items():
            if shard not in self.files:
                raw = np.memmap(f"{hf_dir}/{shard}", np.uint8, mode="r")
                n = struct.unpack_from("<Q", raw, 0)[0]
                self.files[shard] = (raw, json.loads(bytes(raw[8:8 + n])), 8 + n)
            self.where[name] = shard

    def raw(self, name):
        raw, header, base = self.files[self.where[name]]
        info = header[name]
        a, b = info["data_offsets"]
        dtype = {"F32": np.float32, "BF16": np.uint16, "F8_E4M3": np.uint8}[info["dtype"]]
        return info["dtype"], np.frombuffer(raw, dtype, (b - a) // np.dtype(dtype).itemsize, base + a).reshape(info["shape"])

    def weight(self, name):
        dtype, w = self.raw(name)
        if dtype == "F32":
            return w
        if dtype == "BF16":
            return (w.astype(np.uint32) << 16).view(np.float32)
        _, s = self.raw(name[:-len("weight")] + "weight_scale_inv")
        full = np.repeat(np.repeat(s, 128, 0), 128, 1)[:w.shape[0], :w.shape[1]]
        return e4m3(w) * full


def main():
    data, meta, tensors, start = read_gguf(sys.argv[1])
    ckpt = Checkpoint(sys.argv[2])
    cfg = json.load(open(f"{sys.argv[2]}/config.json"))
    a = meta["general.architecture"]
    expect = {f"{a}.block_count": cfg["num_hidden_layers"], f"{a}.expert_count": cfg["n_routed_experts"],
              f"{a}.leading_dense_block_count": cfg["first_k_dense_replace"],
              f"{a}.expert_used_count": cfg["num_experts_per_tok"], f"{a}.vocab_size": cfg["vocab_size"]}
    for key, want in expect.items():
        if meta.get(key) != want:
            sys.exit(f"metadata {key} = {meta.get(key)}, expected {want}")
    if len(meta["tokenizer.ggml.tokens"]) != cfg["vocab_size"]:
        sys.exit("token list length is not vocab_size")
    mtp = cfg["num_hidden_layers"]
    if any(name.startswith(f"blk.{mtp}.") for name in tensors):
        sys.exit("the MTP layer was written")

    heads, nope, v = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["v_head_dim"]
    moe = cfg["first_k_dense_replace"]
    kv_b = ckpt.weight(f"model.layers.{moe}.self_attn.kv_b_proj.weight").reshape(heads, nope + v, -1)
    samples = {
        "token_embd.weight": ckpt.weight("model.embed_tokens.weight"),
        "output.weight": ckpt.weight("lm_head.weight"),
        "blk.0.attn_q_a.weight": ckpt.weight("model.layers.0.self_attn.q_a_proj.weight"),
        "blk.0.ffn_down.weight": ckpt.weight("model.layers.0.mlp.down_proj.weight"),
        f"blk.{moe}.attn_k_b.weight": kv_b[:, :nope, :].transpose(0, 2, 1),
        f"blk.{moe}.attn_v_b.weight": kv_b[:, nope:, :],
        f"blk.{moe}.ffn_gate_inp.weight": ckpt.weight(f"model.layers.{moe}.mlp.gate.weight"),
        f"blk.{moe}.exp_probs_b.bias": ckpt.weight(f"model.layers.{moe}.mlp.gate.e_score_correction_bias"),
        f"blk.{moe}.attn_norm.weight": ckpt.weight(f"model.layers.{moe}.input_layernorm.weight"),
        f"blk.{moe}.ffn_up_exps.weight": np.stack([
            ckpt.weight(f"model.layers.{moe}.mlp.experts.{e}.up_proj.weight") for e in range(cfg["n_routed_experts"])]),
        f"blk.{moe}.ffn_down_shexp.weight": ckpt.weight(f"model.layers.{moe}.mlp.shared_experts.down_proj.weight"),
    }
    for name, ref in samples.items():
        if name not in tensors:
            sys.exit(f"{name} is missing")
        ne, kind, offset = tensors[name]
        if list(ref.shape) != ne[::-1]:
            sys.exit(f"{name}: shape {ne[::-1]}, expected {list(ref.shape)}")
        got = dequantize(data, start, ne, kind, offset)
        if kind == 8:
            got, d = got
            step = np.repeat(d, 32, axis=-1)
            # Half a step of rounding, plus the scale's own rounding to fp16 (2^-11) over |q| <= 127.
            bad = np.abs(got - ref) > step * (0.5 + 127 * 2.0 ** -11) + 1e-7
        else:
            bad = got != ref
        if bad.any():
            i = np.argwhere(bad)[0]
            sys.exit(f"{name}{list(i)}: {got[tuple(i)]} against {ref[tuple(i)]}")
    print(f"gguf ok: {len(tensors)} tensors, {len(meta)} keys, {len(samples)} compared with the checkpoint")


if __name__ == "__main__":
    main()

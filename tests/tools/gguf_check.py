#!/usr/bin/python3
"""Checks a GGUF written by bench/llama-cpp/mst_to_gguf.py against the HF checkpoint it came from.

    gguf_check.py OUT.gguf HF_DIR

Reads the GGUF on its own (header, metadata and their types, tensor table, offsets as llama.cpp
checks them), dequantizes every tensor (Q8_0 / BF16 / F32) and compares it with the safetensors
weights dequantized with their block scales: each Q8_0 block's scale must be its largest
magnitude / 127 and every value within half a step of the reference (plus the step's own
rounding to fp16); BF16 and F32 tensors must match bit for bit.
Prints "gguf ok: ..." and exits 0, else names the first mismatch and exits 1.
"""
import json
import struct
import sys

import numpy as np


def read_gguf(path):
    """(data, metadata, metadata types, tensors, data start); exits on what llama.cpp would refuse."""
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
        """The value and its type: a scalar type number, or ("array", element type)."""
        if kind == 8:
            return string(), kind
        if kind == 9:
            inner, n = take("I"), take("Q")
            return [value(inner)[0] for _ in range(n)], ("array", inner)
        return take(scalar[kind]), kind

    if bytes(data[:4]) != b"GGUF":
        sys.exit("not a GGUF file")
    pos = 4
    version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    if version != 3:
        sys.exit(f"GGUF version {version}, expected 3")
    meta, kinds = {}, {}
    for _ in range(n_kv):
        key = string()
        meta[key], kinds[key] = value(take("I"))
    tensors = {}
    for _ in range(n_tensors):
        name = string()
        ne = [take("Q") for _ in range(take("I"))]
        tensors[name] = (ne, take("I"), take("Q"))
    align = meta.get("general.alignment", 32)
    start = -(-pos // align) * align
    # As llama.cpp's loader checks: each tensor where the one before it ends, padded to the alignment.
    expect = 0
    for name, (ne, kind, offset) in tensors.items():
        if offset != expect:
            sys.exit(f"{name}: offset {offset}, expected {expect} (aligned, contiguous)")
        expect = offset + -(-nbytes(ne, kind) // align) * align
    if start + expect > len(data):
        sys.exit(f"the data runs {start + expect - len(data)} bytes past the end of the file")
    return data, meta, kinds, tensors, start


def nbytes(ne, kind):
    n = int(np.prod(ne))
    if kind == 8 and ne[0] % 32:
        sys.exit(f"a Q8_0 tensor's rows ({ne[0]}) are not whole blocks of 32")
    return {0: n * 4, 30: n * 2, 8: n // 32 * 34}[kind]


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


def expected_tensors(cfg, ckpt):
    """Every tensor the GGUF must hold, by name, with its weights from the checkpoint."""
    heads, nope, v = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["v_head_dim"]
    out = {
        "token_embd.weight": lambda: ckpt.weight("model.embed_tokens.weight"),
        "output_norm.weight": lambda: ckpt.weight("model.norm.weight"),
        "output.weight": lambda: ckpt.weight("lm_head.weight"),
    }
    for l in range(cfg["num_hidden_layers"]):
        p, b = f"model.layers.{l}.", f"blk.{l}."
        plain = {"attn_norm": "input_layernorm", "attn_q_a": "self_attn.q_a_proj",
                 "attn_q_a_norm": "self_attn.q_a_layernorm", "attn_q_b": "self_attn.q_b_proj",
                 "attn_kv_a_mqa": "self_attn.kv_a_proj_with_mqa", "attn_kv_a_norm": "self_attn.kv_a_layernorm",
                 "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm"}
        moe = l >= cfg["first_k_dense_replace"]
        for part in ("gate", "up", "down"):
            if moe:
                plain[f"ffn_{part}_shexp"] = f"mlp.shared_experts.{part}_proj"
                out[f"{b}ffn_{part}_exps.weight"] = lambda p=p, part=part: np.stack([
                    ckpt.weight(f"{p}mlp.experts.{e}.{part}_proj.weight") for e in range(cfg["n_routed_experts"])])
            else:
                plain[f"ffn_{part}"] = f"mlp.{part}_proj"
        if moe:
            plain["ffn_gate_inp"] = "mlp.gate"
            out[f"{b}exp_probs_b.bias"] = lambda p=p: ckpt.weight(f"{p}mlp.gate.e_score_correction_bias")
        for gguf_name, hf_name in plain.items():
            out[f"{b}{gguf_name}.weight"] = lambda n=f"{p}{hf_name}.weight": ckpt.weight(n)
        kv_b = lambda p=p: ckpt.weight(f"{p}self_attn.kv_b_proj.weight").reshape(heads, nope + v, -1)
        out[f"{b}attn_k_b.weight"] = lambda kv_b=kv_b: kv_b()[:, :nope, :].transpose(0, 2, 1)
        out[f"{b}attn_v_b.weight"] = lambda kv_b=kv_b: kv_b()[:, nope:, :]
    return out


def check_metadata(meta, kinds, cfg):
    a = meta.get("general.architecture")
    if a != "deepseek2":
        sys.exit(f"architecture {a}, expected deepseek2")
    expect = {f"{a}.block_count": cfg["num_hidden_layers"], f"{a}.expert_count": cfg["n_routed_experts"],
              f"{a}.leading_dense_block_count": cfg["first_k_dense_replace"],
              f"{a}.expert_used_count": cfg["num_experts_per_tok"], f"{a}.vocab_size": cfg["vocab_size"],
              f"{a}.attention.kv_lora_rank": cfg["kv_lora_rank"], f"{a}.attention.head_count_kv": 1,
              f"{a}.expert_group_count": cfg["n_group"], f"{a}.expert_group_used_count": cfg["topk_group"]}
    for key, want in expect.items():
        if meta.get(key) != want:
            sys.exit(f"metadata {key} = {meta.get(key)}, expected {want}")
    # The types llama.cpp reads them as: counts uint32, scales float32, token types an int32 array.
    for key, kind in kinds.items():
        if isinstance(meta[key], bool):
            want = 7
        elif isinstance(meta[key], int) and key.startswith(a + "."):
            want = 4
        elif isinstance(meta[key], float):
            want = 6
        else:
            continue
        if kind != want:
            sys.exit(f"metadata {key} has GGUF type {kind}, expected {want}")
    if kinds.get("tokenizer.ggml.token_type") != ("array", 5):
        sys.exit(f"tokenizer.ggml.token_type is {kinds.get('tokenizer.ggml.token_type')}, expected an int32 array")
    if len(meta["tokenizer.ggml.tokens"]) != cfg["vocab_size"]:
        sys.exit("token list length is not vocab_size")


def main():
    data, meta, kinds, tensors, start = read_gguf(sys.argv[1])
    ckpt = Checkpoint(sys.argv[2])
    cfg = json.load(open(f"{sys.argv[2]}/config.json"))
    check_metadata(meta, kinds, cfg)
    expected = expected_tensors(cfg, ckpt)
    if set(expected) != set(tensors):
        sys.exit(f"tensors missing: {sorted(set(expected) - set(tensors))}, "
                 f"not expected: {sorted(set(tensors) - set(expected))}")
    q8 = 0
    for name, reference in expected.items():
        ref = reference()
        ne, kind, offset = tensors[name]
        if list(ref.shape) != ne[::-1]:
            sys.exit(f"{name}: shape {ne[::-1]}, expected {list(ref.shape)}")
        got = dequantize(data, start, ne, kind, offset)
        if kind == 8:
            q8 += 1
            got, d = got
            # Each block's scale is its largest magnitude / 127, rounded to fp16.
            want_d = (np.abs(ref).reshape(d.shape + (32,)).max(axis=-1) / 127).astype(np.float16).astype(np.float32)
            wrong = ~(np.abs(d - want_d) <= np.abs(want_d) * 2.0 ** -10 + 2.0 ** -24)
            if wrong.any():
                i = tuple(np.argwhere(wrong)[0])
                sys.exit(f"{name}: block {list(i)} has scale {d[i]}, expected {want_d[i]}")
            # Half a step of rounding, plus the scale's rounding to fp16 over |q| <= 127 (2^-11
            # relative; 2^-25 absolute where the scale is subnormal).
            step = np.repeat(d, 32, axis=-1)
            bad = ~(np.abs(got - ref) <= step * (0.5 + 127 * 2.0 ** -11) + 127 * 2.0 ** -25)
        else:
            bad = ~(got == ref)
        if bad.any():
            i = np.argwhere(bad)[0]
            sys.exit(f"{name}{list(i)}: {got[tuple(i)]} against {ref[tuple(i)]}")
    print(f"gguf ok: {len(tensors)} tensors ({q8} Q8_0), {len(meta)} keys, all compared with the checkpoint")


if __name__ == "__main__":
    main()

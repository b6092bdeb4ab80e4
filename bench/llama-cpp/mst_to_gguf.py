#!/usr/bin/python3
"""Write a .mst container's main model as a llama.cpp GGUF (arch deepseek2), for benchmarks.

    bench/llama-cpp/mst_to_gguf.py MODEL.mst OUT.gguf [--head q8_0|bf16] [--moestream BIN] [--force]

The same weights llama.cpp's own converter would write with --outtype q8_0: every FP8 weight
dequantized with its 128x128 block scales and requantized to Q8_0 (blocks of 32, one fp16
scale), norms, the router and its bias as F32, kv_b split into k_b (transposed) and v_b for
llama.cpp's absorbed MLA, each layer's experts stacked into one 3-D tensor, the MTP layer left
out (llama.cpp does not run it). `--head bf16` keeps the output head in BF16 as moestream
runs it (llama.cpp's converter makes it Q8_0). The vocabulary is the DeepSeek-V3 tokenizer
in third_party/. Tensor places come from `moestream inspect --json --tensors`; the output is
written to OUT.gguf.partial and renamed when complete. Needs python3-numpy.
"""
import argparse
import json
import mmap
import os
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

GGML_F32, GGML_Q8_0, GGML_BF16 = 0, 8, 30
Q8_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "i1", (32,))])  # 34 bytes per 32 weights
ALIGN = 32


def e4m3_table():
    """float8_e4m3fn as float32 for each of the 256 byte values (0x7F/0xFF are NaN)."""
    out = np.empty(256, np.float32)
    for b in range(256):
        sign = -1.0 if b & 0x80 else 1.0
        exp, man = (b >> 3) & 0xF, b & 0x7
        if exp == 0xF and man == 0x7:
            out[b] = np.nan
        elif exp == 0:
            out[b] = sign * man * 2.0 ** -9
        else:
            out[b] = sign * (1 + man / 8.0) * 2.0 ** (exp - 7)
    return out


E4M3 = e4m3_table()


def quantize_q8_0(x):
    """Rows of float32 (length a multiple of 32) to Q8_0 blocks, as ggml's reference does."""
    if x.shape[-1] % 32:
        raise SystemExit(f"Q8_0 needs rows of whole 32-value blocks, not {x.shape[-1]}")
    blocks = x.reshape(-1, 32)
    amax = np.abs(blocks).max(axis=1)
    d = (amax / 127.0).astype(np.float32)
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    out = np.empty(blocks.shape[0], Q8_0_BLOCK)
    out["d"] = d.astype(np.float16)
    scaled = blocks * inv[:, None]
    # roundf: halves away from zero, as ggml's reference (np.rint would round them to even).
    out["qs"] = np.clip(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5), -127, 127).astype(np.int8)
    return out.tobytes()


def encode(x, ggml_type):
    if ggml_type == GGML_F32:
        return np.ascontiguousarray(x, np.float32).tobytes()
    if ggml_type == GGML_BF16:
        bits = np.ascontiguousarray(x, np.float32).view(np.uint32)
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16  # round to nearest even
        return rounded.astype(np.uint16).tobytes()
    return quantize_q8_0(x)


def nbytes(ne, ggml_type):
    n = int(np.prod(ne))
    return n * 4 if ggml_type == GGML_F32 else n * 2 if ggml_type == GGML_BF16 else n // 32 * 34


class Weights:
    """Reads float32 rows of a container's tensors and expert parts through one mapping."""

    def __init__(self, path, info):
        self.file = open(path, "rb")
        self.map = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        self.tensors = {t["name"]: t for t in info["tensors"]}
        self.blobs = {l["layer"]: l["blobs"] for l in info["expert_layers"]}
        if any(b["compression"] != "none" for blobs in self.blobs.values() for b in blobs):
            raise SystemExit(f"{path}: its expert blobs are zstd-compressed, which this converter does not read "
                             "(convert the checkpoint again without --compress)")

    def _rows(self, dtype, shape, offset, scale_format, scale_offset, block, r0, r1):
        rows, cols = (1, shape[0]) if len(shape) == 1 else shape
        if dtype == "F32":
            a = np.frombuffer(self.map, np.float32, (r1 - r0) * cols, offset + r0 * cols * 4)
        elif dtype == "BF16":
            raw = np.frombuffer(self.map, np.uint16, (r1 - r0) * cols, offset + r0 * cols * 2)
            a = (raw.astype(np.uint32) << 16).view(np.float32)
        elif dtype == "F8_E4M3":
            raw = np.frombuffer(self.map, np.uint8, (r1 - r0) * cols, offset + r0 * cols)
            a = E4M3[raw].reshape(r1 - r0, cols)
            br, bc = block
            scale_cols = -(-cols // bc)
            if scale_format == "F32":
                scales = np.frombuffer(self.map, np.float32, -(-rows // br) * scale_cols, scale_offset)
            elif scale_format == "UE8M0":
                e = np.frombuffer(self.map, np.uint8, -(-rows // br) * scale_cols, scale_offset)
                scales = (e.astype(np.uint32) << 23).view(np.float32)
            else:
                raise SystemExit(f"FP8 weight without scales at {offset}")
            scales = scales.reshape(-1, scale_cols)
            row_scales = scales[np.arange(r0, r1) // br]
            a = a * np.repeat(row_scales, bc, axis=1)[:, :cols]
        else:
            raise SystemExit(f"unsupported dtype {dtype}")
        return a.reshape(r1 - r0, cols)

    def tensor_rows(self, name, r0, r1):
        t = self.tensors[name]
        return self._rows(t["dtype"], t["shape"], t["offset"], t["scale_format"], t.get("scale_offset", 0),
                          t.get("block", [128, 128]), r0, r1)

    def expert_rows(self, layer, expert, part, r0, r1):
        b = self.blobs[layer][expert]
        p = b[part]
        return self._rows(p["dtype"], p["shape"], b["offset"] + p["data_offset"], p["scale_format"],
                          b["offset"] + p["scale_offset"], p["block"], r0, r1)


def plan_tensors(cfg, weights, head_type):
    """(gguf name, ne, ggml type, writer) for every tensor, in file order."""
    out = []
    rows_per_chunk = 256

    def matrix(gguf_name, hf_name, ggml_type=GGML_Q8_0):
        rows, cols = weights.tensors[hf_name]["shape"]

        def write(f):
            for r in range(0, rows, rows_per_chunk):
                f.write(encode(weights.tensor_rows(hf_name, r, min(rows, r + rows_per_chunk)), ggml_type))
        out.append((gguf_name, [cols, rows], ggml_type, write))

    def vector(gguf_name, hf_name):
        n = weights.tensors[hf_name]["shape"][0]
        out.append((gguf_name, [n], GGML_F32, lambda f: f.write(encode(weights.tensor_rows(hf_name, 0, 1), GGML_F32))))

    heads, nope, vdim = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["v_head_dim"]
    rank = cfg["kv_lora_rank"]

    def kv_b(layer):
        name = f"model.layers.{layer}.self_attn.kv_b_proj.weight"

        def per_head(h):
            return weights.tensor_rows(name, h * (nope + vdim), (h + 1) * (nope + vdim))

        def write_k(f):
            for h in range(heads):
                f.write(encode(np.ascontiguousarray(per_head(h)[:nope].T), GGML_Q8_0))  # [rank, nope]

        def write_v(f):
            for h in range(heads):
                f.write(encode(per_head(h)[nope:], GGML_Q8_0))  # [vdim, rank]
        out.append((f"blk.{layer}.attn_k_b.weight", [nope, rank, heads], GGML_Q8_0, write_k))
        out.append((f"blk.{layer}.attn_v_b.weight", [rank, vdim, heads], GGML_Q8_0, write_v))

    def experts(layer, part, gguf_part):
        count = len(weights.blobs[layer])
        rows, cols = weights.blobs[layer][0][part]["shape"]

        def write(f):
            for e in range(count):
                for r in range(0, rows, rows_per_chunk):
                    f.write(encode(weights.expert_rows(layer, e, part, r, min(rows, r + rows_per_chunk)), GGML_Q8_0))
        out.append((f"blk.{layer}.ffn_{gguf_part}_exps.weight", [cols, rows, count], GGML_Q8_0, write))

    matrix("token_embd.weight", "model.embed_tokens.weight")
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        vector(f"blk.{l}.attn_norm.weight", p + "input_layernorm.weight")
        matrix(f"blk.{l}.attn_q_a.weight", p + "self_attn.q_a_proj.weight")
        vector(f"blk.{l}.attn_q_a_norm.weight", p + "self_attn.q_a_layernorm.weight")
        matrix(f"blk.{l}.attn_q_b.weight", p + "self_attn.q_b_proj.weight")
        matrix(f"blk.{l}.attn_kv_a_mqa.weight", p + "self_attn.kv_a_proj_with_mqa.weight")
        vector(f"blk.{l}.attn_kv_a_norm.weight", p + "self_attn.kv_a_layernorm.weight")
        kv_b(l)
        matrix(f"blk.{l}.attn_output.weight", p + "self_attn.o_proj.weight")
        vector(f"blk.{l}.ffn_norm.weight", p + "post_attention_layernorm.weight")
        if l in weights.blobs:
            matrix(f"blk.{l}.ffn_gate_inp.weight", p + "mlp.gate.weight", GGML_F32)
            vector(f"blk.{l}.exp_probs_b.bias", p + "mlp.gate.e_score_correction_bias")
            for part in ("gate", "up", "down"):
                experts(l, part, part)
            for part in ("gate", "up", "down"):
                matrix(f"blk.{l}.ffn_{part}_shexp.weight", p + f"mlp.shared_experts.{part}_proj.weight")
        else:
            for part in ("gate", "up", "down"):
                matrix(f"blk.{l}.ffn_{part}.weight", p + f"mlp.{part}_proj.weight")
    vector("output_norm.weight", "model.norm.weight")
    matrix("output.weight", "lm_head.weight", head_type)
    return out


def gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_value(v):
    """GGUF typed value: bool, int (uint32), float (float32), str, or a list of one of them."""
    if isinstance(v, bool):
        return struct.pack("<I?", 7, v)
    if isinstance(v, int):
        return struct.pack("<II", 4, v)
    if isinstance(v, float):
        return struct.pack("<If", 6, v)
    if isinstance(v, str):
        return struct.pack("<I", 8) + gguf_string(v)
    kind = 8 if isinstance(v[0], str) else 5
    body = b"".join(gguf_string(x) for x in v) if kind == 8 else np.asarray(v, "<i4").tobytes()
    return struct.pack("<IIQ", 9, kind, len(v)) + body


def metadata(cfg, tokenizer, head_type):
    a = "deepseek2"
    rope = cfg.get("rope_scaling") or {}
    kv = {
        "general.architecture": a,
        "general.name": "moestream synthetic DeepSeek-V3 shape",
        "general.file_type": 7,  # mostly Q8_0
        f"{a}.block_count": cfg["num_hidden_layers"],
        f"{a}.context_length": cfg["max_position_embeddings"],
        f"{a}.embedding_length": cfg["hidden_size"],
        f"{a}.feed_forward_length": cfg["intermediate_size"],
        f"{a}.attention.head_count": cfg["num_attention_heads"],
        f"{a}.attention.head_count_kv": 1,  # MLA as one shared latent "head"
        f"{a}.rope.freq_base": float(cfg["rope_theta"]),
        f"{a}.attention.layer_norm_rms_epsilon": float(cfg["rms_norm_eps"]),
        f"{a}.expert_used_count": cfg["num_experts_per_tok"],
        f"{a}.leading_dense_block_count": cfg["first_k_dense_replace"],
        f"{a}.vocab_size": cfg["vocab_size"],
        f"{a}.attention.q_lora_rank": cfg["q_lora_rank"],
        f"{a}.attention.kv_lora_rank": cfg["kv_lora_rank"],
        f"{a}.attention.key_length": cfg["kv_lora_rank"] + cfg["qk_rope_head_dim"],
        f"{a}.attention.value_length": cfg["kv_lora_rank"],
        f"{a}.attention.key_length_mla": cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"],
        f"{a}.attention.value_length_mla": cfg["v_head_dim"],
        f"{a}.expert_feed_forward_length": cfg["moe_intermediate_size"],
        f"{a}.expert_count": cfg["n_routed_experts"],
        f"{a}.expert_shared_count": cfg["n_shared_experts"],
        f"{a}.expert_weights_scale": float(cfg["routed_scaling_factor"]),
        f"{a}.expert_weights_norm": bool(cfg["norm_topk_prob"]),
        f"{a}.expert_gating_func": 2 if cfg["scoring_func"] == "sigmoid" else 1,
        f"{a}.expert_group_count": cfg["n_group"],
        f"{a}.expert_group_used_count": cfg["topk_group"],
        f"{a}.rope.dimension_count": cfg["qk_rope_head_dim"],
    }
    if rope.get("type", rope.get("rope_type")) == "yarn":
        kv[f"{a}.rope.scaling.type"] = "yarn"
        kv[f"{a}.rope.scaling.factor"] = float(rope["factor"])
        kv[f"{a}.rope.scaling.original_context_length"] = int(rope["original_max_position_embeddings"])
        kv[f"{a}.rope.scaling.yarn_log_multiplier"] = 0.1 * float(rope.get("mscale_all_dim", 1.0))
    vocab = tokenizer["model"]["vocab"]
    tokens = [None] * cfg["vocab_size"]
    types = [5] * cfg["vocab_size"]  # unused
    for tok, i in vocab.items():
        if i < len(tokens):
            tokens[i], types[i] = tok, 1  # normal
    for added in tokenizer["added_tokens"]:
        if added["id"] < len(tokens):
            tokens[added["id"]], types[added["id"]] = added["content"], 3 if added["special"] else 4
    tokens = [t if t is not None else f"[PAD{i}]" for i, t in enumerate(tokens)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer["model"]["merges"]]
    kv.update({
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "deepseek-v3",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.merges": merges,
        "tokenizer.ggml.bos_token_id": cfg["bos_token_id"],
        "tokenizer.ggml.eos_token_id": cfg["eos_token_id"],
        "tokenizer.ggml.add_bos_token": True,
    })
    return kv


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--head", choices=["q8_0", "bf16"], default="q8_0", help="output head type (default q8_0)")
    ap.add_argument("--moestream", default="moestream", help="the moestream binary (for inspect)")
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "third_party/deepseek-v3-tokenizer/tokenizer.json"))
    ap.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = ap.parse_args()
    if os.path.exists(args.out) and not args.force:
        raise SystemExit(f"{args.out} exists (--force replaces it)")

    inspect = subprocess.run([args.moestream, "inspect", "--json", "--tensors", args.model],
                             capture_output=True, text=True)
    if inspect.returncode != 0:
        raise SystemExit(f"moestream inspect could not read {args.model}: {inspect.stderr.strip()}")
    info = json.loads(inspect.stdout)
    cfg = info["config"]
    with open(args.tokenizer, encoding="utf-8") as f:
        tokenizer = json.load(f)
    weights = Weights(args.model, info)
    tensors = plan_tensors(cfg, weights, GGML_BF16 if args.head == "bf16" else GGML_Q8_0)
    kv = metadata(cfg, tokenizer, args.head)

    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    header += b"".join(gguf_string(k) + gguf_value(v) for k, v in kv.items())
    offset, places = 0, []
    for name, ne, ggml_type, _ in tensors:
        header += gguf_string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        header += struct.pack("<IQ", ggml_type, offset)
        places.append(offset)
        offset += -(-nbytes(ne, ggml_type) // ALIGN) * ALIGN
    header += b"\0" * (-len(header) % ALIGN)

    partial = args.out + ".partial"
    total = offset
    try:
        write_file(partial, header, tensors, places, total)
    except BaseException:  # a failed write, a full disk, Ctrl-C: leave nothing behind
        if os.path.exists(partial):
            os.remove(partial)
        raise
    os.rename(partial, args.out)
    print(f"\nwrote {args.out}: {len(tensors)} tensors, {total / 2**30:.2f} GiB of weights "
          f"(Q8_0, head {args.head}), {len(kv)} metadata keys", file=sys.stderr)


def write_file(partial, header, tensors, places, total):
    """The header, then each tensor at its place, padded; synced before the caller renames it."""
    with open(partial, "wb") as f:
        f.write(header)
        data_start = f.tell()
        for i, (name, ne, ggml_type, write) in enumerate(tensors):
            f.write(b"\0" * (data_start + places[i] - f.tell()))
            write(f)
            written = f.tell() - data_start - places[i]
            if written != nbytes(ne, ggml_type):
                raise SystemExit(f"{name}: wrote {written} bytes, expected {nbytes(ne, ggml_type)}")
            done = places[i] + written
            if sys.stderr.isatty():
                print(f"\r[{'#' * int(30 * done / total):<30}] {done / 2**30:6.2f} / {total / 2**30:.2f} GiB  {name:<40}",
                      end="", file=sys.stderr, flush=True)
        f.write(b"\0" * (data_start + total - f.tell()))
        f.flush()
        os.fsync(f.fileno())


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("\ninterrupted: nothing written")

"""llama.cpp against `eulcat bench`, in one sitting; prints both and the ratios.

llama.cpp is measured as in ../shared/research/feasibility.md section 3:
n_ctx 1024, n_batch = n_ubatch = 512, one eval of the 512-token prompt,
then 128 greedy single-token evals (EOS not stopped), median of the runs.
The prompt is eulcat's own bench text (src/bench/prompt.txt), tokenized by
llama.cpp (its ids equal eulcat's, see tests/tokenizer.rs) and cut to 512.
Run through compare.sh, which provides the virtual environment.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import llama_cpp

ROOT = Path(__file__).resolve().parent.parent

# On a CPU with AMX, llama-cpp-python 0.3.36 built with GGML_NATIVE=ON
# segfaults in its AMX matrix product (`ggml_backend_amx_mul_mat`) on the
# first evaluation; turning llama.cpp's extra CPU buffer types off keeps the
# weights in the plain CPU buffer, whose AVX-512 kernels work (the same
# workaround as tests/openai_client/llama_server.py). It also turns off
# llama.cpp's weight repacking, which makes the reference slower than the
# llama.cpp its users run, so on a CPU without AMX (`--extra-buffers auto`)
# they stay on: the reference is the fastest llama.cpp that runs here.
import llama_cpp.llama_cpp as _low_level

_default_model_params = _low_level.llama_model_default_params


def _without_extra_buffers():
    params = _default_model_params()
    params.use_extra_bufts = False
    return params


def cpu_has_amx():
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(line.startswith("flags") and " amx_tile" in line for line in flags.splitlines())


def use_extra_buffers(choice):
    """Whether llama.cpp keeps its extra CPU buffer types (and repacking)."""
    on = choice == "on" or (choice == "auto" and not cpu_has_amx())
    _low_level.llama_model_default_params = _default_model_params if on else _without_extra_buffers
    return on


def llama_figures(model, threads, runs, prompt_tokens=512, decode_tokens=128):
    llm = llama_cpp.Llama(
        model_path=str(model),
        n_ctx=1024,
        n_batch=512,
        n_ubatch=512,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    text = (ROOT / "src/bench/prompt.txt").read_text(encoding="utf-8")
    ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)[:prompt_tokens]
    assert len(ids) == prompt_tokens, f"prompt has {len(ids)} tokens"
    n_vocab = llm.n_vocab()

    def next_token():
        logits = np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(n_vocab,)
        )
        return int(np.argmax(logits))

    prefill, decode, ttft = [], [], []
    llm.reset()
    llm.eval(ids[:16])  # warm-up, untimed
    for _ in range(runs):
        llm.reset()
        started = time.perf_counter()
        llm.eval(ids)
        token = next_token()
        elapsed = time.perf_counter() - started
        prefill.append(prompt_tokens / elapsed)
        ttft.append(elapsed * 1e3)
        started = time.perf_counter()
        for _ in range(decode_tokens):
            llm.eval([token])
            token = next_token()
        decode.append(decode_tokens / (time.perf_counter() - started))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000.0
    return {
        "prefill_tokens_per_s": statistics.median(prefill),
        "prefill_runs": prefill,
        "decode_tokens_per_s": statistics.median(decode),
        "decode_runs": decode,
        "ttft_ms_p50": statistics.median(ttft),
        "peak_rss_mb": peak_mb,
    }


def eulcat_figures(binary, threads, runs, questions):
    command = [str(binary), "--threads", str(threads), "bench", "--json", "--runs", str(runs),
               "--questions", str(questions)]
    print("compare: running " + " ".join(command), file=sys.stderr)
    out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default=str(ROOT / "models/gemma-3-270m-q4_k_m.gguf"))
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    parser.add_argument("--eulcat", default=str(Path(target) / "release/eulcat"))
    shared = ROOT.parent / "shared"
    if not shared.exists():
        shared = Path("/work/shared")
    parser.add_argument("--questions", default=str(shared / "eval/dev.jsonl"))
    parser.add_argument("--extra-buffers", choices=["auto", "on", "off"], default="auto",
                        help="llama.cpp's extra CPU buffer types and weight repacking "
                        "(auto: on unless the CPU has AMX, where they crash)")
    args = parser.parse_args()

    extra = "on" if use_extra_buffers(args.extra_buffers) else "off"
    print(f"compare: llama.cpp {llama_cpp.__version__}, extra CPU buffer types {extra} "
          "(see the top of this file)", file=sys.stderr)
    llama = llama_figures(args.model, args.threads, args.runs)
    eulcat = eulcat_figures(args.eulcat, args.threads, args.runs, args.questions)

    rows = [
        ("prompt processing, tokens/s", "prefill_tokens_per_s", True),
        ("generation, tokens/s", "decode_tokens_per_s", True),
        ("time to first token (512 tokens), ms", "ttft_ms_p50", False),
        ("peak resident memory, MB", "peak_rss_mb", False),
    ]
    print(f"threads {args.threads}, median of {args.runs} runs, llama.cpp {llama_cpp.__version__}, "
          f"extra CPU buffer types {extra}")
    print(f"| {'figure':<38} | {'llama.cpp':>10} | {'eulcat':>10} | {'eulcat/llama':>12} |")
    print(f"|{'-' * 40}|{'-' * 12}|{'-' * 12}|{'-' * 14}|")
    for name, key, _higher_is_better in rows:
        a, b = llama[key], eulcat[key]
        print(f"| {name:<38} | {a:>10.1f} | {b:>10.1f} | {b / a:>11.2f}x |")
    print(f"| {'answer latency p50 / p95, ms':<38} | {'':>10} | "
          f"{eulcat['answer_ms_p50']:>4.0f} / {eulcat['answer_ms_p95']:<4.0f}| {'':>12} |")
    if "repeated_answer_ms_p50" in eulcat:
        print(f"| {'same questions again p50 / p95, ms':<38} | {'':>10} | "
              f"{eulcat['repeated_answer_ms_p50']:>4.0f} / {eulcat['repeated_answer_ms_p95']:<4.0f}| {'':>12} |")
    concurrent = eulcat["concurrent_decode_tokens_per_s"]
    single = concurrent.get("1")
    for n in sorted(concurrent, key=int):
        ratio = f"{concurrent[n] / single:.2f}x single" if single else ""
        print(f"| {n + ' conversations, tokens/s':<38} | {'':>10} | {concurrent[n]:>10.1f} | {ratio:>12} |")
    batched = eulcat.get("batched_decode_tokens_per_s", {})
    for n in sorted(batched, key=int):
        ratio = f"{batched[n] / single:.2f}x single" if single else ""
        print(f"| {n + ' sequences batched, tokens/s':<38} | {'':>10} | {batched[n]:>10.1f} | {ratio:>12} |")
    print(json.dumps({"llama_cpp": llama, "eulcat": eulcat}))


if __name__ == "__main__":
    main()

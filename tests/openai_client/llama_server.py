"""`python -m llama_cpp.server` with llama.cpp's extra CPU buffer types off.

Those buffer types repack weights for AMX (and other) kernels; on the CI's
Xeon (AMX) the AMX matrix product segfaults on the first completion
(`ggml_backend_amx_mul_mat`, llama-cpp-python 0.3.36 built with
GGML_NATIVE=ON), and the server exposes no option to turn them off. The
weights then stay in the plain CPU buffer, whose AVX-512 kernels work.
Every argument is passed on to the server unchanged.
"""

import runpy

import llama_cpp.llama_cpp as low_level

_default_params = low_level.llama_model_default_params


def _without_extra_buffers():
    params = _default_params()
    params.use_extra_bufts = False
    return params


low_level.llama_model_default_params = _without_extra_buffers
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)

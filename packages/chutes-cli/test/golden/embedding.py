from chutes.chute import NodeSelector
from chutes.chute.template.embedding import build_embedding_chute

embed = build_embedding_chute(
    username="alice",
    model_name="BAAI/bge-m3",
    revision="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    node_selector=NodeSelector(
        gpu_count=1,
        min_vram_gb_per_gpu=16,
    ),
    pooling_type="cls",
)

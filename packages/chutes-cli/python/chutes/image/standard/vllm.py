VLLM = "chutes/vllm:nightly-2025111700"

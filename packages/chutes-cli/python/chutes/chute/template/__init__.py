from chutes.chute.template.vllm import build_vllm_chute  # noqa: F401

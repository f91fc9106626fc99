from chutes.chute.template._record import record_template, require_revision
from chutes.exception import DefinitionError
from chutes.image.standard.vllm import VLLM


def build_vllm_chute(
    username,
    model_name,
    node_selector,
    image=VLLM,
    tagline="",
    readme="",
    concurrency=32,
    engine_args=None,
    revision=None,
    max_instances=1,
    scaling_threshold=0.75,
    shutdown_after_seconds=300,
    allow_external_egress=False,
    tee=False,
):
    args = dict(locals())
    if engine_args and "--revision" in engine_args:
        raise DefinitionError("Revision is now a top-level argument to build_vllm_chute!")
    require_revision(revision, model_name)
    return record_template(
        "vllm", args, username=username, name=model_name, image=image, node_selector=node_selector,
        standard_template="vllm", revision=revision,
    )

from chutes.chute.template._record import record_template
from chutes.image.standard.diffusion import DIFFUSION


def build_diffusion_chute(
    username,
    name,
    model_name_or_url,
    node_selector,
    tagline="",
    readme="",
    concurrency=3,
    version=None,
    revision=None,
    image=DIFFUSION,
    pipeline_args=None,
    max_instances=1,
    scaling_threshold=0.75,
    shutdown_after_seconds=300,
    tee=False,
):
    args = dict(locals())
    return record_template(
        "diffusion", args, username=username, name=name, image=image, node_selector=node_selector,
        standard_template="diffusion",
    )

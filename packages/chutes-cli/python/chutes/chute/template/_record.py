"""What every template recorder shares: the SDK's revision check and the recorded template call."""

from chutes.chute.base import Chute, ChutePack
from chutes.chute.node_selector import NodeSelector
from chutes.exception import DefinitionError
from chutes.image import Image


def require_revision(revision, model_name):
    if revision:
        return
    from chutes.chute.template.helpers import get_current_hf_commit

    suggested = None
    try:
        suggested = get_current_hf_commit(model_name)
    except Exception:
        pass
    suggestion = (
        "Unable to fetch the current refs/heads/main commit from HF, please check the model name."
        if not suggested
        else f"The current refs/heads/main commit is: {suggested}"
    )
    raise DefinitionError(
        f"You must specify revision= to properly lock a model to a given huggingface revision. {suggestion}"
    )


def _plain(value):
    if isinstance(value, Image):
        return value.describe()
    if isinstance(value, NodeSelector):
        return value.dict()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def record_template(template, args, **chute_kwargs):
    chute = Chute(**chute_kwargs)
    chute._template = {"name": template, "args": _plain(args)}
    return ChutePack(chute)

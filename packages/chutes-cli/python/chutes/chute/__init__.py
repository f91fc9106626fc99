from chutes.chute.base import Chute, ChutePack  # noqa: F401
from chutes.chute.cord import Cord  # noqa: F401
from chutes.chute.job import Job, Port  # noqa: F401
from chutes.chute.node_selector import NodeSelector  # noqa: F401

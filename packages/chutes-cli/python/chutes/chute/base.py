"""Records a Chute (its settings, cords, jobs) and ChutePack, the template return type."""

import uuid

from chutes.image import Image


class Chute:
    def __init__(
        self,
        username,
        name,
        image,
        tagline="",
        readme="",
        standard_template=None,
        revision=None,
        node_selector=None,
        concurrency=1,
        max_instances=1,
        shutdown_after_seconds=300,
        scaling_threshold=0.75,
        allow_external_egress=False,
        encrypted_fs=False,
        passthrough_headers=None,
        tee=False,
        lock_modules=None,
        **_fastapi_kwargs,
    ):
        self._username = username
        self._name = name
        self._image = image
        self._settings = {
            "tagline": tagline,
            "readme": readme,
            "standard_template": standard_template,
            "revision": revision,
            "concurrency": concurrency,
            "max_instances": max_instances,
            "shutdown_after_seconds": shutdown_after_seconds,
            "scaling_threshold": scaling_threshold,
            "allow_external_egress": allow_external_egress,
            "encrypted_fs": encrypted_fs,
            "passthrough_headers": dict(passthrough_headers or {}),
            "tee": tee,
            "lock_modules": lock_modules,
        }
        self._node_selector = node_selector
        self._cords = []
        self._jobs = []
        self._template = None
        self.revision = revision
        self.concurrency = concurrency

    @property
    def name(self):
        return self._name

    @property
    def image(self):
        return self._image

    @property
    def uid(self):
        return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{self._username}::chute::{self._name}"))

    @property
    def cords(self):
        return self._cords

    @property
    def jobs(self):
        return self._jobs

    @property
    def node_selector(self):
        return self._node_selector

    def _hook(self, priority=50):
        return lambda func: func

    def on_startup(self, priority=50):
        return self._hook(priority)

    def on_shutdown(self, priority=50):
        return self._hook(priority)

    def cord(self, **kwargs):
        from chutes.chute.cord import Cord

        cord = Cord(self, **kwargs)
        self._cords.append(cord)
        return cord

    def job(self, **kwargs):
        from chutes.chute.job import Job

        job = Job(self, **kwargs)
        self._jobs.append(job)
        return job

    def describe(self):
        selector = self._node_selector
        if selector is not None and not isinstance(selector, dict):
            selector = selector.dict()
        image = self._image.describe() if isinstance(self._image, Image) else self._image
        return {
            "username": self._username,
            "name": self._name,
            "image": image,
            **self._settings,
            "node_selector": selector,
            "cords": [cord.describe() for cord in self._cords],
            "jobs": [job.describe() for job in self._jobs],
            "template": self._template,
        }


class ChutePack:
    def __init__(self, chute, **callables):
        self.chute = chute
        for key, value in callables.items():
            setattr(self, key, value)

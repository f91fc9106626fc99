"""Records a node selector; the TypeScript CLI validates it (gpu_count 1-8, min_vram_gb_per_gpu 16-140)."""


class NodeSelector:
    # Like the pinned SDK's pydantic model, unknown keyword arguments are ignored.
    def __init__(self, gpu_count=1, min_vram_gb_per_gpu=16, include=None, exclude=None, **_ignored):
        self.gpu_count = gpu_count
        self.min_vram_gb_per_gpu = min_vram_gb_per_gpu
        self.include = include
        self.exclude = exclude

    def dict(self):
        return {
            "gpu_count": self.gpu_count,
            "min_vram_gb_per_gpu": self.min_vram_gb_per_gpu,
            "include": list(self.include) if self.include is not None else None,
            "exclude": list(self.exclude) if self.exclude is not None else None,
        }

    model_dump = dict

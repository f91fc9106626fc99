class _Logger:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


logger = _Logger()

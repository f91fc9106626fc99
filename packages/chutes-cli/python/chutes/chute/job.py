"""Records a job (ports, timeout, upload, ssh) and the function it decorates."""


class Port:
    def __init__(self, name, port, proto="tcp"):
        self.name = name
        self.port = port
        self.proto = proto


class Job:
    def __init__(self, app, ports=None, timeout=None, upload=True, ssh=False):
        self._app = app
        self._func = None
        self.ports = list(ports or [])
        self.timeout = timeout
        self.upload = upload
        self.ssh = ssh

    def __call__(self, func):
        self._func = func
        return func

    def describe(self):
        if self._func is None:
            raise ValueError("a job was declared with chute.job(...) but never decorated a function")
        ports = []
        for port in self.ports:
            if isinstance(port, dict):
                ports.append({"name": port.get("name"), "port": port.get("port"), "proto": port.get("proto", "tcp")})
            else:
                ports.append({"name": port.name, "port": port.port, "proto": port.proto})
        return {
            "function": self._func.__name__,
            "ports": ports,
            "timeout": self.timeout,
            "upload": bool(self.upload),
            "ssh": bool(self.ssh),
        }
